// What mup2's fused kernels share: access to a kernel's inputs and outputs through TensorFlow's C
// kernel API, released when the kernel returns.
#pragma once

#include <cstdint>
#include <vector>

#include "tensorflow/c/kernels.h"
#include "tensorflow/c/tf_status.h"
#include "tensorflow/c/tf_tensor.h"

namespace mup2 {

// Holds a kernel's input and output tensors and its status; deletes them when the kernel returns.
class KernelCall {
 public:
  explicit KernelCall(TF_OpKernelContext* context) : context_(context), status_(TF_NewStatus()) {}
  ~KernelCall() {
    for (TF_Tensor* tensor : tensors_)
      if (tensor != nullptr) TF_DeleteTensor(tensor);
    for (TF_Tensor* tensor : more_tensors_) TF_DeleteTensor(tensor);
    TF_DeleteStatus(status_);
  }
  KernelCall(const KernelCall&) = delete;
  KernelCall& operator=(const KernelCall&) = delete;

  // Inputs 0 … count − 1 into `inputs`; false after failing the op. (Their dtype is the op
  // definition's float: TensorFlow refuses any other before the kernel runs.)
  bool Inputs(int count, TF_Tensor** inputs) {
    for (int i = 0; i < count; i++)
      if ((inputs[i] = Input(i)) == nullptr) return false;
    return true;
  }
  // Input i, held until the kernel returns; nullptr after failing the op.
  TF_Tensor* Input(int i) {
    TF_Tensor* input = TakeInput(i);
    if (input != nullptr) Keep(input);
    return input;
  }
  // Input i, not held: the caller deletes it (TF_DeleteTensor), as a kernel over a list may once
  // it has read it. nullptr after failing the op.
  TF_Tensor* TakeInput(int i) {
    TF_Tensor* input = nullptr;
    TF_GetInput(context_, i, &input, status_);
    return Check() ? input : nullptr;
  }
  // Output i with the given dimensions, or nullptr after failing the op.
  TF_Tensor* Output(int i, const int64_t* dims, int rank) {
    int64_t count = 1;
    for (int d = 0; d < rank; d++) count *= dims[d];
    TF_Tensor* tensor =
        TF_AllocateOutput(context_, i, TF_FLOAT, dims, rank, static_cast<size_t>(count) * sizeof(float), status_);
    if (!Check()) return nullptr;
    Keep(tensor);
    return tensor;
  }
  // Output i shaped like `like`, or nullptr after failing the op.
  TF_Tensor* OutputLike(int i, const TF_Tensor* like) {
    const int rank = TF_NumDims(like);
    if (rank > kMaxRank) {
      Fail("rank above 32");
      return nullptr;
    }
    int64_t dims[kMaxRank];
    for (int d = 0; d < rank; d++) dims[d] = TF_Dim(like, d);
    return Output(i, dims, rank);
  }
  // Fails the op with `message` (InvalidArgument); always false.
  bool Fail(const char* message) {
    TF_SetStatus(status_, TF_INVALID_ARGUMENT, message);
    TF_OpKernelContext_Failure(context_, status_);
    return false;
  }

 private:
  bool Check() {
    if (TF_GetCode(status_) == TF_OK) return true;
    TF_OpKernelContext_Failure(context_, status_);
    return false;
  }
  void Keep(TF_Tensor* tensor) {
    if (kept_ < kMaxTensors)
      tensors_[kept_++] = tensor;
    else
      more_tensors_.push_back(tensor);
  }
  static constexpr int kMaxRank = 32;
  static constexpr int kMaxTensors = 10;
  TF_OpKernelContext* context_;
  TF_Status* status_;
  TF_Tensor* tensors_[kMaxTensors] = {};
  int kept_ = 0;
  std::vector<TF_Tensor*> more_tensors_;  // past kMaxTensors (a kernel over lists)
};

inline bool SameShape(const TF_Tensor* a, const TF_Tensor* b) {
  if (TF_NumDims(a) != TF_NumDims(b)) return false;
  for (int d = 0; d < TF_NumDims(a); d++)
    if (TF_Dim(a, d) != TF_Dim(b, d)) return false;
  return true;
}

inline const float* Data(const TF_Tensor* tensor) { return static_cast<const float*>(TF_TensorData(tensor)); }
inline float* MutableData(TF_Tensor* tensor) { return static_cast<float*>(TF_TensorData(tensor)); }

// A vector of `size` entries, or of rank 1 (and any size) with `size` < 0.
inline bool IsVector(const TF_Tensor* tensor, int64_t size) {
  return TF_NumDims(tensor) == 1 && (size < 0 || TF_Dim(tensor, 0) == size);
}

// x's features (its last axis) and rows (the product of the others); false unless x has rank ≥ 1
// and at least one feature.
inline bool RowsOf(const TF_Tensor* x, int64_t* rows, int64_t* features) {
  const int rank = TF_NumDims(x);
  if (rank < 1 || TF_Dim(x, rank - 1) == 0) return false;
  *features = TF_Dim(x, rank - 1);
  *rows = TF_TensorElementCount(x) / *features;
  return true;
}

// The kernels, for the op table in mup2_fused_ops.cc. Each fails its op on bad shapes, naming them.
void MomentumStep(void*, TF_OpKernelContext* context);
// Mup2CheckedMomentumStep: MomentumStep and whether every entry of g is finite.
void CheckedMomentumStep(void*, TF_OpKernelContext* context);
void SumOfSquares(void*, TF_OpKernelContext* context);
// Mup2InnerProduct(x, y) -> scalar sum of x * y.
void InnerProduct(void*, TF_OpKernelContext* context);
void AllFinite(void*, TF_OpKernelContext* context);
void AddScaled(void*, TF_OpKernelContext* context);
// Mup2MovedWeights: a SAM ascent's norm and every moved weight in one kernel.
void MovedWeights(void*, TF_OpKernelContext* context);
void Gelu(void*, TF_OpKernelContext* context);
void GeluGrad(void*, TF_OpKernelContext* context);
void Relu(void*, TF_OpKernelContext* context);
void ReluBackward(void*, TF_OpKernelContext* context);
void ScaleGrad(void*, TF_OpKernelContext* context);
void SoftmaxCrossEntropyMean(void*, TF_OpKernelContext* context);
// A kernel whose state is one attribute (LayerNorm's epsilon, the softmax's scale, the thin product's
// transpose flags): its value, read by CreateAttribute<type, name> when TensorFlow builds the kernel,
// freed by DeleteAttribute<type>.
inline void GetAttribute(TF_OpKernelConstruction* construction, const char* name, float* value, TF_Status* status) {
  TF_OpKernelConstruction_GetAttrFloat(construction, name, value, status);
}
inline void GetAttribute(TF_OpKernelConstruction* construction, const char* name, int32_t* value, TF_Status* status) {
  TF_OpKernelConstruction_GetAttrInt32(construction, name, value, status);
}
template <typename T, const char* kName>
void* CreateAttribute(TF_OpKernelConstruction* construction) {
  TF_Status* status = TF_NewStatus();
  T value = 0;
  GetAttribute(construction, kName, &value, status);
  if (TF_GetCode(status) != TF_OK) TF_OpKernelConstruction_Failure(construction, status);
  TF_DeleteStatus(status);
  return new T(value);
}
template <typename T>
void DeleteAttribute(void* value) {
  delete static_cast<T*>(value);
}
inline constexpr char kEpsilon[] = "epsilon";
inline constexpr char kScale[] = "scale";
inline constexpr char kTranspose[] = "transpose";
// LayerNorm's kernel state is its epsilon (CreateAttribute<float, kEpsilon>).
void LayerNorm(void* epsilon, TF_OpKernelContext* context);
void LayerNormGrad(void*, TF_OpKernelContext* context);
// The softmax kernels' state is their scale (CreateAttribute<float, kScale>).
void Softmax(void* scale, TF_OpKernelContext* context);
void SoftmaxGrad(void* scale, TF_OpKernelContext* context);
void BiasAdd(void*, TF_OpKernelContext* context);
void SwapAxes(void*, TF_OpKernelContext* context);
// Its state is its transpose flags (CreateAttribute<int32_t, kTranspose>): bit 0 a, bit 1 b.
void ThinMatMul(void* transpose, TF_OpKernelContext* context);

}  // namespace mup2
