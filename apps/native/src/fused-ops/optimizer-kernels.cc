// The optimizer step's fused kernels: heavy-ball SGD for one parameter, a perturbation's squared
// norm, an inner product of two gradients, the point a perturbation moves the weights to, and
// whether a step's gradients are all finite. Single-threaded on purpose: on 2 cores a pass this
// size is slower split over TensorFlow's pool (docs/performance.md).
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "kernel-call.h"
#include "vector-loops.h"

namespace mup2 {

// A parameter-sized output (1 MiB or more) is written with non-temporal stores where the CPU has
// AVX: they bypass the caches, so a store does not first read in the line it overwrites (the
// output is a fresh buffer, read again only by the next pass over the weights). On [1024, 1024]
// the heavy-ball step took 0.57 ms this way against 1.16 (docs/performance.md). An output off a
// 32-byte boundary (TensorFlow aligns its buffers to 64) and the last n % 8 entries take the plain
// loop; both compute the same products and sums, unfused, so the results are the same.
constexpr int64_t kStreamedFloats = int64_t{1} << 18;
static bool Streamed(int64_t n, const float* out) {
  static const bool avx = __builtin_cpu_supports("avx");
  return avx && n >= kStreamedFloats && (reinterpret_cast<uintptr_t>(out) & 31) == 0;
}

// Sum over begin <= i < end of term(i), in 32 independent partial sums: with one vector accumulator
// a reduction is bound by the add's latency (~14 GB/s here), with several by memory
// (docs/performance.md). Inlined into each caller's clone (baseline, AVX2, AVX-512).
template <typename Term>
inline float LaneSum(int64_t begin, int64_t end, Term term) {
  constexpr int64_t kLanes = 32;
  float lanes[kLanes] = {};
  int64_t i = begin;
  for (; i + kLanes <= end; i += kLanes) {
#pragma omp simd
    for (int64_t k = 0; k < kLanes; k++) lanes[k] += term(i + k);
  }
  float total = 0;
  for (; i < end; i++) total += term(i);
  for (int64_t k = 0; k < kLanes; k++) total += lanes[k];
  return total;
}

// Whether x[0..n) holds no NaN and no infinity (why x * 0: Mup2AllFinite).
MUP2_VECTOR_CLONES
static bool AllFiniteValues(const float* __restrict x, int64_t n) {
  return LaneSum(0, n, [=](int64_t i) { return x[i] * 0.0f; }) == 0.0f;
}

// MomentumStep's loop over [0, n − n % 8), both outputs 32-byte aligned. With `checked`, it also
// returns whether every g in that range is finite: the sum of g·0, as AllFiniteValues takes it, in
// one register (the loop waits on memory, not on the adds). Without, it returns true.
__attribute__((target("avx"))) static bool MomentumStreamed(const float* __restrict w_in,
    const float* __restrict v_in, const float* __restrict g_in, float* __restrict w_next,
    float* __restrict v_next, int64_t n, float rate, float momentum, bool checked) {
  const __m256 mu = _mm256_set1_ps(momentum), lr = _mm256_set1_ps(rate), zero = _mm256_setzero_ps();
  __m256 check = zero;
  for (int64_t i = 0; i + 8 <= n; i += 8) {
    const __m256 gradient = _mm256_loadu_ps(g_in + i);
    if (checked) check = _mm256_add_ps(check, _mm256_mul_ps(gradient, zero));
    const __m256 velocity = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(v_in + i), mu), gradient);
    _mm256_stream_ps(v_next + i, velocity);
    _mm256_stream_ps(w_next + i, _mm256_sub_ps(_mm256_loadu_ps(w_in + i), _mm256_mul_ps(velocity, lr)));
  }
  _mm_sfence();
  // Equal to zero in every lane exactly when no lane saw a NaN (NaN compares unequal).
  return _mm256_movemask_ps(_mm256_cmp_ps(check, zero, _CMP_EQ_OQ)) == 0xff;
}

// AddScaled's loop over [0, n − n % 8), the output 32-byte aligned.
__attribute__((target("avx"))) static void AddScaledStreamed(const float* __restrict w,
    const float* __restrict d, float* __restrict out, int64_t n, float scale) {
  const __m256 s = _mm256_set1_ps(scale);
  for (int64_t i = 0; i + 8 <= n; i += 8)
    _mm256_stream_ps(out + i, _mm256_add_ps(_mm256_loadu_ps(w + i), _mm256_mul_ps(_mm256_loadu_ps(d + i), s)));
  _mm_sfence();
}

// out[i] = w[i] + d[i] * scale for i < n: streamed where Streamed says, then the plain loop.
static void AddScaledInto(const float* __restrict w, const float* __restrict d, float* __restrict out, int64_t n,
    float scale) {
  int64_t i = 0;
  if (Streamed(n, out)) {
    AddScaledStreamed(w, d, out, n, scale);
    i = n - n % 8;
  }
  for (; i < n; i++) out[i] = w[i] + d[i] * scale;
}

// The heavy-ball step of Mup2MomentumStep and Mup2CheckedMomentumStep; with `checked`, output 2 is
// the scalar 1 when every entry of g is finite, else 0.
static void Momentum(TF_OpKernelContext* context, bool checked) {
  const char* op = checked ? "Mup2CheckedMomentumStep" : "Mup2MomentumStep";
  KernelCall call(context);
  TF_Tensor* in[5];
  if (!call.Inputs(5, in)) return;
  TF_Tensor *w = in[0], *v = in[1], *g = in[2], *lr = in[3], *mu = in[4];
  if (!SameShape(w, v) || !SameShape(w, g)) {
    call.Fail((std::string(op) + ": w, v and g must have one shape").c_str());
    return;
  }
  if (TF_TensorElementCount(lr) != 1 || TF_TensorElementCount(mu) != 1) {
    call.Fail((std::string(op) + ": lr and mu must hold one value each").c_str());
    return;
  }
  TF_Tensor* w_out = call.OutputLike(0, w);
  TF_Tensor* v_out = w_out ? call.OutputLike(1, w) : nullptr;
  TF_Tensor* finite_out = v_out && checked ? call.Output(2, nullptr, 0) : nullptr;
  if (v_out == nullptr || (checked && finite_out == nullptr)) return;
  const int64_t n = TF_TensorElementCount(w);
  const float* __restrict w_in = Data(w);
  const float* __restrict v_in = Data(v);
  const float* __restrict g_in = Data(g);
  float* __restrict w_next = MutableData(w_out);
  float* __restrict v_next = MutableData(v_out);
  const float rate = *Data(lr);
  const float momentum = *Data(mu);
  int64_t i = 0;
  bool finite = true;
  if (Streamed(n, w_next) && Streamed(n, v_next)) {
    finite = MomentumStreamed(w_in, v_in, g_in, w_next, v_next, n, rate, momentum, checked);
    i = n - n % 8;
  }
  // The rest (all of a parameter under 1 MiB) in the plain loop, and its g checked after it, in cache.
  const int64_t rest = i;
  for (; i < n; i++) {
    const float velocity = v_in[i] * momentum + g_in[i];
    v_next[i] = velocity;
    w_next[i] = w_in[i] - velocity * rate;
  }
  if (checked) *MutableData(finite_out) = finite && AllFiniteValues(g_in + rest, n - rest) ? 1.0f : 0.0f;
}

// Mup2MomentumStep(w, v, g, lr, mu) -> (w_out, v_out): v_out = mu * v + g, w_out = w - lr * v_out.
// Heavy-ball SGD (PyTorch's and muSgd's form) for one parameter: 3 reads and 2 writes, where the
// composed form (mul, add, mul, sub) makes 4 passes and 4 fresh buffers.
void MomentumStep(void*, TF_OpKernelContext* context) { Momentum(context, false); }

// Mup2CheckedMomentumStep(w, v, g, lr, mu) -> (w_out, v_out, finite): Mup2MomentumStep's outputs and
// the scalar 1 when every entry of g is finite, else 0: a SAM step's check of its second gradient
// folded into the update's own read of it, where Mup2AllFinite reads every gradient once more.
void CheckedMomentumStep(void*, TF_OpKernelContext* context) { Momentum(context, true); }

// Sum over i < n of x[i] * y[i]: blocks of 1024 summed in float lanes, the blocks in double.
MUP2_VECTOR_CLONES
static float BlockedDot(const float* __restrict x, const float* __restrict y, int64_t n) {
  constexpr int64_t kBlock = 1024;
  double total = 0;
  for (int64_t start = 0; start < n; start += kBlock) {
    const int64_t end = start + kBlock < n ? start + kBlock : n;
    total += LaneSum(start, end, [=](int64_t i) { return x[i] * y[i]; });
  }
  return static_cast<float>(total);
}

// Mup2SumOfSquares(x) -> scalar sum of x^2, where TF.js squares into a fresh buffer and then sums it.
void SumOfSquares(void*, TF_OpKernelContext* context) {
  KernelCall call(context);
  TF_Tensor* x;
  if (!call.Inputs(1, &x)) return;
  TF_Tensor* out = call.Output(0, nullptr, 0);
  if (out == nullptr) return;
  *MutableData(out) = BlockedDot(Data(x), Data(x), TF_TensorElementCount(x));
}

// Mup2InnerProduct(x, y) -> scalar sum of x * y (one shape), where TF.js multiplies into a fresh
// buffer and then sums it: GSAM's and LookSAM's inner products of two gradients.
void InnerProduct(void*, TF_OpKernelContext* context) {
  KernelCall call(context);
  TF_Tensor* in[2];
  if (!call.Inputs(2, in)) return;
  if (!SameShape(in[0], in[1])) {
    call.Fail("Mup2InnerProduct: x and y must have one shape");
    return;
  }
  TF_Tensor* out = call.Output(0, nullptr, 0);
  if (out == nullptr) return;
  *MutableData(out) = BlockedDot(Data(in[0]), Data(in[1]), TF_TensorElementCount(in[0]));
}

// Mup2AddScaled(w, d, s) -> w + s * d: the weights a SAM ascent moves one parameter to, in one pass
// (2 reads, 1 write) where TF.js multiplies into the perturbation and then adds it (3 reads, 2
// writes, each pass handed to TensorFlow's pool at 2 threads).
void AddScaled(void*, TF_OpKernelContext* context) {
  KernelCall call(context);
  TF_Tensor* in[3];
  if (!call.Inputs(3, in)) return;
  TF_Tensor *w = in[0], *d = in[1], *s = in[2];
  if (!SameShape(w, d)) {
    call.Fail("Mup2AddScaled: w and d must have one shape");
    return;
  }
  if (TF_TensorElementCount(s) != 1) {
    call.Fail("Mup2AddScaled: s must hold one value");
    return;
  }
  TF_Tensor* out = call.OutputLike(0, w);
  if (out == nullptr) return;
  AddScaledInto(Data(w), Data(d), MutableData(out), TF_TensorElementCount(w), *Data(s));
}

// Mup2AllFinite(x_1 … x_N) -> scalar 1 when every entry of every input is finite, else 0. The
// check that every SAM step makes of its gradient before the descent, in one kernel and one read
// of each gradient, where TF.js sums each one (N reductions, handed to TensorFlow's pool at 2
// threads) and adds the sums. x·0 is 0 for a finite x and NaN for ±Inf or NaN, so the lanes'
// total is 0 exactly when all are finite: unlike a plain sum, finite entries cannot overflow it.
void AllFinite(void*, TF_OpKernelContext* context) {
  KernelCall call(context);
  TF_Tensor* out = call.Output(0, nullptr, 0);
  if (out == nullptr) return;
  bool finite = true;
  for (int i = 0; i < TF_NumInputs(context) && finite; i++) {
    TF_Tensor* x = call.TakeInput(i);
    if (x == nullptr) return;
    finite = AllFiniteValues(Data(x), TF_TensorElementCount(x));
    TF_DeleteTensor(x);
  }
  *MutableData(out) = finite ? 1.0f : 0.0f;
}

// Mup2MovedWeights(w_1 … w_N, d_1 … d_N, n_1 … n_N, a, b, radius) -> (moved_1 … moved_N, norm²):
// a SAM ascent's whole move in one kernel, where TF.js takes one call per parameter for its squared
// norm, a few for the scalar ε = radius / (sqrt(Σ b_q ‖n_q‖²) + 1e-12), one per parameter for its
// factor a_p·ε and one per parameter for w_p + factor·d_p. norm² = Σ_q b_q ‖n_q‖² (NaN or ±Inf
// when a norm term is not finite: the caller's check of the first gradient); moved_p = w_p +
// (radius · a_p / (sqrt(norm²) + 1e-12)) · d_p. The factor is computed in double and rounded to
// float once, as computePerturbation's float32 ops round at each step.
void MovedWeights(void*, TF_OpKernelContext* context) {
  KernelCall call(context);
  const int count = (TF_NumInputs(context) - 3) / 3;
  TF_Tensor* a = call.Input(3 * count);
  TF_Tensor* b = a ? call.Input(3 * count + 1) : nullptr;
  TF_Tensor* radius = b ? call.Input(3 * count + 2) : nullptr;
  if (radius == nullptr) return;
  if (!IsVector(a, count) || !IsVector(b, count) || TF_TensorElementCount(radius) != 1) {
    call.Fail("Mup2MovedWeights: a and b must be vectors of one entry per parameter and radius one value");
    return;
  }
  double norm_squared = 0;
  for (int p = 0; p < count; p++) {
    TF_Tensor* n = call.Input(2 * count + p);
    if (n == nullptr) return;
    norm_squared += static_cast<double>(Data(b)[p]) * BlockedDot(Data(n), Data(n), TF_TensorElementCount(n));
  }
  TF_Tensor* norm_out = call.Output(count, nullptr, 0);
  if (norm_out == nullptr) return;
  *MutableData(norm_out) = static_cast<float>(norm_squared);
  const double step = static_cast<double>(*Data(radius)) / (std::sqrt(norm_squared) + 1e-12);
  for (int p = 0; p < count; p++) {
    TF_Tensor* w = call.Input(p);
    TF_Tensor* d = w ? call.Input(count + p) : nullptr;
    if (d == nullptr) return;
    if (!SameShape(w, d)) {
      call.Fail("Mup2MovedWeights: each w and its d must have one shape");
      return;
    }
    TF_Tensor* moved = call.OutputLike(p, w);
    if (moved == nullptr) return;
    AddScaledInto(Data(w), Data(d), MutableData(moved), TF_TensorElementCount(w), static_cast<float>(step * Data(a)[p]));
  }
}

}  // namespace mup2
