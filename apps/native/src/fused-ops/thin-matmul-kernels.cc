// Mup2ThinMatMul: a 2-D product with a thin side (a classifier's 10 outputs, say), on the calling
// thread. TensorFlow's BatchMatMulV2 runs [128, 1024]·[1024, 10] and its two gradient products at
// 5–15 GFLOP/s and hands them to its pool at 2 threads; a product this thin is a set of dot products
// or of row updates (a·x + y), which the loops below vectorise along its longest side. Any shape is
// computed correctly; the model zoo calls it only where a side is thin (fast-matmul.ts).
#include <algorithm>
#include <cstdio>
#include <memory>

#include "kernel-call.h"
#include "vector-loops.h"

namespace mup2 {
namespace {

// out [rows, cols] = in [cols, rows]ᵀ, in 16 × 16 tiles.
void Transpose(const float* __restrict in, int64_t rows, int64_t cols, float* __restrict out) {
  constexpr int64_t kTile = 16;
  for (int64_t r0 = 0; r0 < rows; r0 += kTile)
    for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
      const int64_t r1 = std::min(r0 + kTile, rows), c1 = std::min(c0 + kTile, cols);
      for (int64_t r = r0; r < r1; r++)
        for (int64_t c = c0; c < c1; c++) out[r * cols + c] = in[c * rows + r];
    }
}

// c [m, n] = p [m, k] · q [n, k]ᵀ: dot products along k, four rows of p at a time, so that each
// row of q is read once per four.
MUP2_VECTOR_CLONES
void Dots(const float* __restrict p, const float* __restrict q, int64_t m, int64_t n, int64_t k,
          float* __restrict c) {
  int64_t i = 0;
  for (; i + 4 <= m; i += 4) {
    const float* __restrict p0 = p + i * k;
    const float* __restrict p1 = p0 + k;
    const float* __restrict p2 = p1 + k;
    const float* __restrict p3 = p2 + k;
    for (int64_t j = 0; j < n; j++) {
      const float* __restrict qj = q + j * k;
      float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
      for (int64_t t = 0; t < k; t++) {
        const float v = qj[t];
        s0 += p0[t] * v;
        s1 += p1[t] * v;
        s2 += p2[t] * v;
        s3 += p3[t] * v;
      }
      c[i * n + j] = s0;
      c[(i + 1) * n + j] = s1;
      c[(i + 2) * n + j] = s2;
      c[(i + 3) * n + j] = s3;
    }
  }
  for (; i < m; i++) {
    const float* __restrict pi = p + i * k;
    for (int64_t j = 0; j < n; j++) {
      const float* __restrict qj = q + j * k;
      float s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t t = 0; t < k; t++) s += pi[t] * qj[t];
      c[i * n + j] = s;
    }
  }
}

// Sixteen floats as one value of GCC's vector extension: one AVX-512 register, two AVX2 ones, four
// SSE ones, whichever clone runs. Accumulators of this type stay in registers, where local arrays
// under `omp simd` went through the stack on every update.
typedef float Floats16 __attribute__((vector_size(64)));
inline Floats16 Load16(const float* p) {
  Floats16 v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
inline void Store16(float* p, Floats16 v) { __builtin_memcpy(p, &v, sizeof v); }

// c [m, n] = Σ_t s(i, t) · r [k, n] row t, with s(i, t) = s[i * s_row + t * s_col]: row updates along
// n, four rows of c at a time over 32 columns (eight accumulators), so that r is read once per four
// rows; the last columns and rows one at a time.
MUP2_VECTOR_CLONES
void RowUpdates(const float* __restrict s, int64_t s_row, int64_t s_col, const float* __restrict r, int64_t m,
                int64_t n, int64_t k, float* __restrict c) {
  int64_t i = 0;
  for (; i + 4 <= m; i += 4) {
    const float* s0 = s + i * s_row;
    const float* s1 = s0 + s_row;
    const float* s2 = s1 + s_row;
    const float* s3 = s2 + s_row;
    int64_t j0 = 0;
    for (; j0 + 32 <= n; j0 += 32) {
      Floats16 a0 = {}, b0 = {}, a1 = {}, b1 = {}, a2 = {}, b2 = {}, a3 = {}, b3 = {};
      for (int64_t t = 0; t < k; t++) {
        const float* in = r + t * n + j0;
        const Floats16 x = Load16(in), y = Load16(in + 16);
        const float f0 = s0[t * s_col], f1 = s1[t * s_col], f2 = s2[t * s_col], f3 = s3[t * s_col];
        a0 += f0 * x;
        b0 += f0 * y;
        a1 += f1 * x;
        b1 += f1 * y;
        a2 += f2 * x;
        b2 += f2 * y;
        a3 += f3 * x;
        b3 += f3 * y;
      }
      float* out = c + i * n + j0;
      Store16(out, a0);
      Store16(out + 16, b0);
      Store16(out + n, a1);
      Store16(out + n + 16, b1);
      Store16(out + 2 * n, a2);
      Store16(out + 2 * n + 16, b2);
      Store16(out + 3 * n, a3);
      Store16(out + 3 * n + 16, b3);
    }
    for (int64_t row = i; row < i + 4; row++)
      for (int64_t j = j0; j < n; j++) {
        float sum = 0;
        for (int64_t t = 0; t < k; t++) sum += s[row * s_row + t * s_col] * r[t * n + j];
        c[row * n + j] = sum;
      }
  }
  for (; i < m; i++) {
    float* __restrict out = c + i * n;
#pragma omp simd
    for (int64_t j = 0; j < n; j++) out[j] = 0.0f;
    for (int64_t t = 0; t < k; t++) {
      const float scale = s[i * s_row + t * s_col];
      const float* __restrict in = r + t * n;
#pragma omp simd
      for (int64_t j = 0; j < n; j++) out[j] += scale * in[j];
    }
  }
}

}  // namespace

// Mup2ThinMatMul(a, b; transpose) = op(a) · op(b), op transposing a where bit 0 of `transpose` is set
// and b where bit 1 is: [m, k] · [k, n] → [m, n].
void ThinMatMul(void* transpose, TF_OpKernelContext* context) {
  KernelCall call(context);
  TF_Tensor* inputs[2];
  if (!call.Inputs(2, inputs)) return;
  const TF_Tensor* a = inputs[0];
  const TF_Tensor* b = inputs[1];
  char message[200];
  if (TF_NumDims(a) != 2 || TF_NumDims(b) != 2) {
    std::snprintf(message, sizeof message, "Mup2ThinMatMul: a and b must be matrices (rank 2), got ranks %d and %d",
                  TF_NumDims(a), TF_NumDims(b));
    call.Fail(message);
    return;
  }
  const int32_t flags = *static_cast<int32_t*>(transpose);
  const bool ta = (flags & 1) != 0, tb = (flags & 2) != 0;
  const int64_t m = TF_Dim(a, ta ? 1 : 0), k = TF_Dim(a, ta ? 0 : 1);
  const int64_t kb = TF_Dim(b, tb ? 1 : 0), n = TF_Dim(b, tb ? 0 : 1);
  if (k != kb) {
    std::snprintf(message, sizeof message,
                  "Mup2ThinMatMul: op(a) is [%lld, %lld] and op(b) is [%lld, %lld] (transpose %d): the inner "
                  "dimensions must match",
                  static_cast<long long>(m), static_cast<long long>(k), static_cast<long long>(kb),
                  static_cast<long long>(n), static_cast<int>(flags));
    call.Fail(message);
    return;
  }
  const int64_t dims[2] = {m, n};
  TF_Tensor* product = call.Output(0, dims, 2);
  if (product == nullptr || m == 0 || n == 0) return;
  const float* pa = Data(a);
  const float* pb = Data(b);
  float* c = MutableData(product);
  // Packed copies of an operand (or of cᵀ), in the layout the loops read.
  std::unique_ptr<float[]> packed, packed_b;
  if (k >= m && k >= n) {
    // Dot products along k: a as [m, k] and b as [n, k].
    const float* rows = pa;
    const float* cols = pb;
    if (ta) {
      packed.reset(new float[m * k]);
      Transpose(pa, m, k, packed.get());
      rows = packed.get();
    }
    if (!tb) {
      packed_b.reset(new float[n * k]);
      Transpose(pb, n, k, packed_b.get());
      cols = packed_b.get();
    }
    Dots(rows, cols, m, n, k, c);
  } else if (n >= m) {
    // Row updates along n: c[i, :] = Σ_t a(i, t) · b as [k, n] row t.
    const float* r = pb;
    if (tb) {
      packed.reset(new float[k * n]);
      Transpose(pb, k, n, packed.get());
      r = packed.get();
    }
    RowUpdates(pa, ta ? 1 : k, ta ? m : 1, r, m, n, k, c);
  } else {
    // Row updates along m of cᵀ [n, m] = Σ_t b(t, j) · a as [k, m] row t, then transposed into c.
    const float* r = pa;
    if (!ta) {
      packed.reset(new float[k * m]);
      Transpose(pa, k, m, packed.get());
      r = packed.get();
    }
    packed_b.reset(new float[n * m]);
    RowUpdates(pb, tb ? k : 1, tb ? 1 : n, r, n, m, k, packed_b.get());
    Transpose(packed_b.get(), m, n, c);
  }
}

}  // namespace mup2
