// The ViT attention's kernels other than its products: softmax over the last axis and its gradient,
// the swap of two middle axes that splits and merges heads, and a bias added over rows. TensorFlow
// has the first, the third and the fourth (Softmax, Transpose, BiasAdd), but at 2 threads hands each
// to its pool, which at the ViT's sizes (1–4 MB) costs more than it saves; the softmax's gradient
// TF.js composes from four kernels. Each runs here in one pass on the calling thread, as the layer
// kernels in layer-kernels.cc.
#include <cmath>
#include <cstring>

#include "kernel-call.h"
#include "vector-loops.h"

namespace mup2 {
namespace {

// y = exp(s·x − max) / Σ exp(s·x − max) per row, max over s·x. A NaN, or +∞, in a row makes the whole
// row NaN, as in TensorFlow's Softmax (through the sum).
MUP2_VECTOR_CLONES
void SoftmaxLoop(const float* __restrict x, float scale, float* __restrict y, int64_t rows, int64_t features) {
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict row = x + r * features;
    float* __restrict out = y + r * features;
    float top = -INFINITY;
#pragma omp simd reduction(max : top)
    for (int64_t j = 0; j < features; j++) top = scale * row[j] > top ? scale * row[j] : top;
    float sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < features; j++) {
      out[j] = expf(scale * row[j] - top);
      sum += out[j];
    }
    const float inverse = 1.0f / sum;
#pragma omp simd
    for (int64_t j = 0; j < features; j++) out[j] *= inverse;
  }
}

// The gradient with respect to x: dx = s·y ⊙ (dy − Σ_j dy·y) per row.
MUP2_VECTOR_CLONES
void SoftmaxGradLoop(const float* __restrict dy, const float* __restrict y, float scale, float* __restrict dx,
                     int64_t rows, int64_t features) {
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict dy_row = dy + r * features;
    const float* __restrict y_row = y + r * features;
    float* __restrict dx_row = dx + r * features;
    float dot = 0;
#pragma omp simd reduction(+ : dot)
    for (int64_t j = 0; j < features; j++) dot += dy_row[j] * y_row[j];
#pragma omp simd
    for (int64_t j = 0; j < features; j++) dx_row[j] = scale * y_row[j] * (dy_row[j] - dot);
  }
}

MUP2_VECTOR_CLONES
void BiasAddLoop(const float* __restrict x, const float* __restrict bias, float* __restrict y, int64_t rows,
                 int64_t features) {
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict row = x + r * features;
    float* __restrict out = y + r * features;
#pragma omp simd
    for (int64_t j = 0; j < features; j++) out[j] = row[j] + bias[j];
  }
}

}  // namespace

// Mup2Softmax(x [..., features]; scale) -> softmax(scale·x) over the last axis.
void Softmax(void* scale, TF_OpKernelContext* context) {
  KernelCall call(context);
  TF_Tensor* x;
  if (!call.Inputs(1, &x)) return;
  int64_t rows, features;
  if (!RowsOf(x, &rows, &features)) {
    call.Fail("Mup2Softmax: x must have rank >= 1 and at least one entry on its last axis");
    return;
  }
  TF_Tensor* y = call.OutputLike(0, x);
  if (y != nullptr) SoftmaxLoop(Data(x), *static_cast<float*>(scale), MutableData(y), rows, features);
}

// Mup2SoftmaxGrad(dy, y; scale) -> dx: the gradient of Mup2Softmax with respect to x, from its output y.
void SoftmaxGrad(void* scale, TF_OpKernelContext* context) {
  KernelCall call(context);
  TF_Tensor* in[2];
  if (!call.Inputs(2, in)) return;
  int64_t rows, features;
  if (!RowsOf(in[1], &rows, &features) || !SameShape(in[0], in[1])) {
    call.Fail("Mup2SoftmaxGrad: dy and y must have one shape, of rank >= 1 with at least one entry on its last axis");
    return;
  }
  TF_Tensor* dx = call.OutputLike(0, in[1]);
  if (dx != nullptr) SoftmaxGradLoop(Data(in[0]), Data(in[1]), *static_cast<float*>(scale), MutableData(dx), rows, features);
}

// Mup2BiasAdd(x [..., features], bias [features]) -> x + bias.
void BiasAdd(void*, TF_OpKernelContext* context) {
  KernelCall call(context);
  TF_Tensor* in[2];
  if (!call.Inputs(2, in)) return;
  int64_t rows, features;
  if (!RowsOf(in[0], &rows, &features) || !IsVector(in[1], features)) {
    call.Fail("Mup2BiasAdd: bias must be a vector of x's last axis (x of rank >= 1)");
    return;
  }
  TF_Tensor* y = call.OutputLike(0, in[0]);
  if (y != nullptr) BiasAddLoop(Data(in[0]), Data(in[1]), MutableData(y), rows, features);
}

// Mup2SwapAxes(x [outer, a, b, inner]) -> [outer, b, a, inner]: its own inverse, and, with the
// caller's reshapes, the heads' split ([batch, tokens, heads, dHead] -> [batch, heads, tokens, dHead]),
// its merge, and the keys' transpose ([batch, tokens, width, 1] -> [batch, width, tokens, 1]).
void SwapAxes(void*, TF_OpKernelContext* context) {
  KernelCall call(context);
  TF_Tensor* x;
  if (!call.Inputs(1, &x)) return;
  if (TF_NumDims(x) != 4) {
    call.Fail("Mup2SwapAxes: x must have rank 4 ([outer, a, b, inner])");
    return;
  }
  const int64_t outer = TF_Dim(x, 0), a = TF_Dim(x, 1), b = TF_Dim(x, 2), inner = TF_Dim(x, 3);
  const int64_t dims[4] = {outer, b, a, inner};
  TF_Tensor* y = call.Output(0, dims, 4);
  if (y == nullptr) return;
  const float* in = Data(x);
  float* out = MutableData(y);
  for (int64_t o = 0; o < outer; o++) {
    const float* block_in = in + o * a * b * inner;
    float* block_out = out + o * a * b * inner;
    if (inner == 1) {
      for (int64_t j = 0; j < b; j++)
        for (int64_t i = 0; i < a; i++) block_out[j * a + i] = block_in[i * b + j];
    } else {
      const size_t bytes = static_cast<size_t>(inner) * sizeof(float);
      for (int64_t j = 0; j < b; j++)
        for (int64_t i = 0; i < a; i++)
          std::memcpy(block_out + (j * a + i) * inner, block_in + (i * b + j) * inner, bytes);
    }
  }
}

}  // namespace mup2
