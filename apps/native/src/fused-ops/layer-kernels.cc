// The model zoo's fused layer kernels: GELU (tanh form) and LayerNorm, each with its gradient, in
// one pass over memory where TF.js composes 4–21 kernels (apps/model-zoo/src/layers/gelu.ts and
// layer-norm.ts hold the same formulas in TF.js), and ReLU with its gradient, as TensorFlow's own
// kernels but on the calling thread (at 2 threads TensorFlow hands those to its pool, which costs
// a pass this size more than it saves). Loops are compiled for the baseline and for AVX2 and
// AVX-512, chosen when the library loads (target_clones). Single-threaded, as the optimizer's kernels.
#include <cmath>
#include <vector>

#include "kernel-call.h"
#include "vector-loops.h"

namespace mup2 {
namespace {

// GELU's tanh form: ½x(1 + tanh(u)), u = √(2/π)(x + 0.044715x³), computed as x·σ(v) with
// v = 2u = a·x·(1 + c·x²), since ½(1 + tanh(u)) = σ(2u).
constexpr float kA = 1.5957691216057308f;  // 2√(2/π)
constexpr float kCA = 0.044715f * kA;

MUP2_VECTOR_CLONES
void GeluLoop(const float* __restrict x, float* __restrict y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) {
    const float v = x[i] * (kA + kCA * x[i] * x[i]);
    y[i] = x[i] / (1.0f + expf(-v));
  }
}

// d/dx x·σ(v) = σ(v) + x·σ(v)(1 − σ(v))·v′, v′ = a(1 + 3c·x²).
MUP2_VECTOR_CLONES
void GeluGradLoop(const float* __restrict dy, const float* __restrict x, float* __restrict dx, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) {
    const float square = x[i] * x[i];
    const float gate = 1.0f / (1.0f + expf(-x[i] * (kA + kCA * square)));
    const float slope = kA + 3.0f * kCA * square;
    dx[i] = dy[i] * (gate + x[i] * gate * (1.0f - gate) * slope);
  }
}

// Each row's mean and 1/√(variance + ε) (biased variance, in double), and y = γ·x̂ + β.
MUP2_VECTOR_CLONES
void LayerNormLoop(const float* __restrict x, const float* __restrict gamma, const float* __restrict beta,
                   float epsilon, int64_t rows, int64_t features, float* __restrict y, float* __restrict mean,
                   float* __restrict rstd) {
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict row = x + r * features;
    double sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < features; j++) sum += row[j];
    const double mu = sum / static_cast<double>(features);
    double squares = 0;
#pragma omp simd reduction(+ : squares)
    for (int64_t j = 0; j < features; j++) squares += (row[j] - mu) * (row[j] - mu);
    const float m = static_cast<float>(mu);
    const float s = static_cast<float>(1.0 / std::sqrt(squares / static_cast<double>(features) + epsilon));
    mean[r] = m;
    rstd[r] = s;
    float* __restrict out = y + r * features;
#pragma omp simd
    for (int64_t j = 0; j < features; j++) out[j] = (row[j] - m) * s * gamma[j] + beta[j];
  }
}

// With x̂ = (x − μ)/σ and g = dy·γ per row: dx = (1/σ)(g − mean(g) − x̂·mean(g·x̂)); dγ = Σ_rows dy·x̂,
// dβ = Σ_rows dy (accumulated in double).
MUP2_VECTOR_CLONES
void LayerNormGradLoop(const float* __restrict dy, const float* __restrict x, const float* __restrict gamma,
                       const float* __restrict mean, const float* __restrict rstd, int64_t rows, int64_t features,
                       float* __restrict dx, double* __restrict dgamma, double* __restrict dbeta) {
  const double inverse_features = 1.0 / static_cast<double>(features);
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict dy_row = dy + r * features;
    const float* __restrict x_row = x + r * features;
    const float m = mean[r];
    const float s = rstd[r];
    double g_sum = 0;
    double gx_sum = 0;
#pragma omp simd reduction(+ : g_sum, gx_sum)
    for (int64_t j = 0; j < features; j++) {
      const float x_hat = (x_row[j] - m) * s;
      const float g = dy_row[j] * gamma[j];
      g_sum += g;
      gx_sum += g * x_hat;
      dgamma[j] += dy_row[j] * x_hat;
      dbeta[j] += dy_row[j];
    }
    const float g_mean = static_cast<float>(g_sum * inverse_features);
    const float gx_mean = static_cast<float>(gx_sum * inverse_features);
    float* __restrict dx_row = dx + r * features;
#pragma omp simd
    for (int64_t j = 0; j < features; j++) {
      const float x_hat = (x_row[j] - m) * s;
      dx_row[j] = s * (dy_row[j] * gamma[j] - g_mean - x_hat * gx_mean);
    }
  }
}

// ReLU as TensorFlow's Relu and ReluGrad compute it: y = max(x, 0) with NaN passed through, and
// dx = dy · [x > 0] as a product, so a NaN upstream gradient still comes through (NaN · 0 is NaN).
MUP2_VECTOR_CLONES
void ReluLoop(const float* __restrict x, float* __restrict y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) y[i] = x[i] < 0.0f ? 0.0f : x[i];
}

MUP2_VECTOR_CLONES
void ReluBackwardLoop(const float* __restrict dy, const float* __restrict x, float* __restrict dx, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) dx[i] = dy[i] * (x[i] > 0.0f ? 1.0f : 0.0f);
}

// An elementwise kernel y = f(x), shaped like x.
void Elementwise(TF_OpKernelContext* context, void (*loop)(const float*, float*, int64_t)) {
  KernelCall call(context);
  TF_Tensor* x;
  if (!call.Inputs(1, &x)) return;
  TF_Tensor* y = call.OutputLike(0, x);
  if (y == nullptr) return;
  loop(Data(x), MutableData(y), TF_TensorElementCount(x));
}

// An elementwise gradient dx = f(dy, x), shaped like x; fails with `shape_error` when dy is not.
void ElementwiseGrad(TF_OpKernelContext* context, const char* shape_error,
                     void (*loop)(const float*, const float*, float*, int64_t)) {
  KernelCall call(context);
  TF_Tensor* in[2];
  if (!call.Inputs(2, in)) return;
  if (!SameShape(in[0], in[1])) {
    call.Fail(shape_error);
    return;
  }
  TF_Tensor* dx = call.OutputLike(0, in[1]);
  if (dx == nullptr) return;
  loop(Data(in[0]), Data(in[1]), MutableData(dx), TF_TensorElementCount(in[1]));
}

// Per-feature scaling y = x ⊙ γ (γ over the last axis) backwards: dx = dy ⊙ γ, and dγ = Σ over rows
// of dy ⊙ x, summed in float64.
MUP2_VECTOR_CLONES
void ScaleGradLoop(const float* __restrict dy, const float* __restrict x, const float* __restrict gamma,
                   int64_t rows, int64_t features, float* __restrict dx, double* __restrict dgamma) {
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict dy_row = dy + r * features;
    const float* __restrict x_row = x + r * features;
    float* __restrict dx_row = dx + r * features;
#pragma omp simd
    for (int64_t j = 0; j < features; j++) {
      dx_row[j] = dy_row[j] * gamma[j];
      dgamma[j] += static_cast<double>(dy_row[j] * x_row[j]);
    }
  }
}

}  // namespace

// Mup2Gelu(x) -> y.
void Gelu(void*, TF_OpKernelContext* context) { Elementwise(context, &GeluLoop); }

// Mup2GeluGrad(dy, x) -> dx: GELU's gradient from its input alone (nothing else kept from the forward pass).
void GeluGrad(void*, TF_OpKernelContext* context) {
  ElementwiseGrad(context, "Mup2GeluGrad: dy and x must have one shape", &GeluGradLoop);
}

void Relu(void*, TF_OpKernelContext* context) { Elementwise(context, &ReluLoop); }

void ReluBackward(void*, TF_OpKernelContext* context) {
  ElementwiseGrad(context, "Mup2ReluBackward: dy and x must have one shape", &ReluBackwardLoop);
}

// Mup2LayerNorm(x [..., features], gamma [features], beta [features]; epsilon) -> (y, mean [rows],
// rstd [rows]), normalising over the last axis; rows are the other axes' entries in order.
void LayerNorm(void* epsilon, TF_OpKernelContext* context) {
  KernelCall call(context);
  TF_Tensor* in[3];
  if (!call.Inputs(3, in)) return;
  TF_Tensor *x = in[0], *gamma = in[1], *beta = in[2];
  int64_t rows, features;
  if (!RowsOf(x, &rows, &features)) {
    call.Fail("Mup2LayerNorm: x must have rank >= 1 and at least one feature (its last axis)");
    return;
  }
  if (!IsVector(gamma, features) || !IsVector(beta, features)) {
    call.Fail("Mup2LayerNorm: gamma and beta must be vectors of x's feature count");
    return;
  }
  TF_Tensor* y = call.OutputLike(0, x);
  TF_Tensor* mean = y ? call.Output(1, &rows, 1) : nullptr;
  TF_Tensor* rstd = mean ? call.Output(2, &rows, 1) : nullptr;
  if (rstd == nullptr) return;
  LayerNormLoop(Data(x), Data(gamma), Data(beta), *static_cast<float*>(epsilon), rows, features, MutableData(y),
                MutableData(mean), MutableData(rstd));
}

// Mup2LayerNormGrad(dy, x, gamma, mean, rstd) -> (dx, dgamma, dbeta), from Mup2LayerNorm's mean and
// rstd (x of any rank, as there).
void LayerNormGrad(void*, TF_OpKernelContext* context) {
  KernelCall call(context);
  TF_Tensor* in[5];
  if (!call.Inputs(5, in)) return;
  TF_Tensor *dy = in[0], *x = in[1], *gamma = in[2], *mean = in[3], *rstd = in[4];
  int64_t rows, features;
  if (!RowsOf(x, &rows, &features) || !SameShape(dy, x)) {
    call.Fail("Mup2LayerNormGrad: dy and x must have one shape, of rank >= 1 with at least one feature");
    return;
  }
  if (!IsVector(gamma, features) || !IsVector(mean, rows) || !IsVector(rstd, rows)) {
    call.Fail("Mup2LayerNormGrad: gamma must be a vector of x's feature count, mean and rstd of its row count");
    return;
  }
  TF_Tensor* dx = call.OutputLike(0, x);
  TF_Tensor* dgamma = dx ? call.Output(1, &features, 1) : nullptr;
  TF_Tensor* dbeta = dgamma ? call.Output(2, &features, 1) : nullptr;
  if (dbeta == nullptr) return;
  std::vector<double> gamma_sums(features, 0.0), beta_sums(features, 0.0);
  LayerNormGradLoop(Data(dy), Data(x), Data(gamma), Data(mean), Data(rstd), rows, features, MutableData(dx),
                    gamma_sums.data(), beta_sums.data());
  float* dgamma_out = MutableData(dgamma);
  float* dbeta_out = MutableData(dbeta);
  for (int64_t j = 0; j < features; j++) {
    dgamma_out[j] = static_cast<float>(gamma_sums[j]);
    dbeta_out[j] = static_cast<float>(beta_sums[j]);
  }
}

// Mup2ScaleGrad(dy, x [..., features], gamma [features]) -> (dx, dgamma): the gradients of x ⊙ γ, in
// one pass where TF.js multiplies twice and sums over the rows (each handed to TensorFlow's pool at
// 2 threads).
void ScaleGrad(void*, TF_OpKernelContext* context) {
  KernelCall call(context);
  TF_Tensor* in[3];
  if (!call.Inputs(3, in)) return;
  TF_Tensor *dy = in[0], *x = in[1], *gamma = in[2];
  int64_t rows, features;
  if (!RowsOf(x, &rows, &features) || !SameShape(dy, x)) {
    call.Fail("Mup2ScaleGrad: dy and x must have one shape, of rank >= 1 with at least one feature");
    return;
  }
  if (!IsVector(gamma, features)) {
    call.Fail("Mup2ScaleGrad: gamma must be a vector of x's feature count");
    return;
  }
  TF_Tensor* dx = call.OutputLike(0, x);
  TF_Tensor* dgamma = dx ? call.Output(1, &features, 1) : nullptr;
  if (dgamma == nullptr) return;
  std::vector<double> sums(features, 0.0);
  ScaleGradLoop(Data(dy), Data(x), Data(gamma), rows, features, MutableData(dx), sums.data());
  float* dgamma_out = MutableData(dgamma);
  for (int64_t j = 0; j < features; j++) dgamma_out[j] = static_cast<float>(sums[j]);
}

}  // namespace mup2
