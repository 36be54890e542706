// Fused float32 kernels for mup2's optimizer steps on the native TF.js backend (tfjs-node).
//
// Each one does in one pass over memory what TF.js composes from several ops (one kernel call and
// one fresh output buffer each). Written against TensorFlow's C kernel API (tensorflow/c/kernels.h
// and ops.h, whose headers tfjs-node's deps/include holds), so nothing depends on TensorFlow's C++
// ABI; built by `pnpm native:install` next to libtensorflow and loaded into Node as an N-API addon,
// whose loading registers the ops with libtensorflow. Single-threaded on purpose: on 2 cores a
// pass this size is slower split over TensorFlow's pool (docs/performance.md).
#include <node_api.h>

#include <cstdint>
#include <mutex>
#include <string>

#include "tensorflow/c/kernels.h"
#include "tensorflow/c/ops.h"
#include "tensorflow/c/tf_status.h"
#include "tensorflow/c/tf_tensor.h"

namespace {

void* CreateKernel(TF_OpKernelConstruction*) { return nullptr; }
void DeleteKernel(void*) {}

// Holds a kernel's input and output tensors and its status; deletes them when the kernel returns.
class KernelCall {
 public:
  explicit KernelCall(TF_OpKernelContext* context) : context_(context), status_(TF_NewStatus()) {}
  ~KernelCall() {
    for (TF_Tensor* tensor : tensors_)
      if (tensor != nullptr) TF_DeleteTensor(tensor);
    TF_DeleteStatus(status_);
  }
  // Input i, or nullptr after failing the op. (Its dtype is the op definition's float: TensorFlow
  // refuses any other before the kernel runs.)
  TF_Tensor* Input(int i) {
    TF_Tensor* tensor = nullptr;
    TF_GetInput(context_, i, &tensor, status_);
    if (!Check()) return nullptr;
    Keep(tensor);
    return tensor;
  }
  // Output i with the given dimensions, or nullptr after failing the op.
  TF_Tensor* Output(int i, const int64_t* dims, int rank, int64_t count) {
    TF_Tensor* tensor =
        TF_AllocateOutput(context_, i, TF_FLOAT, dims, rank, static_cast<size_t>(count) * sizeof(float), status_);
    if (!Check()) return nullptr;
    Keep(tensor);
    return tensor;
  }
  TF_Tensor* Fail(const char* message) {
    TF_SetStatus(status_, TF_INVALID_ARGUMENT, message);
    TF_OpKernelContext_Failure(context_, status_);
    return nullptr;
  }

 private:
  bool Check() {
    if (TF_GetCode(status_) == TF_OK) return true;
    TF_OpKernelContext_Failure(context_, status_);
    return false;
  }
  void Keep(TF_Tensor* tensor) {
    if (kept_ < kMaxTensors) tensors_[kept_++] = tensor;
  }
  static constexpr int kMaxTensors = 8;
  TF_OpKernelContext* context_;
  TF_Status* status_;
  TF_Tensor* tensors_[kMaxTensors] = {};
  int kept_ = 0;
};

bool SameShape(const TF_Tensor* a, const TF_Tensor* b) {
  if (TF_NumDims(a) != TF_NumDims(b)) return false;
  for (int d = 0; d < TF_NumDims(a); d++)
    if (TF_Dim(a, d) != TF_Dim(b, d)) return false;
  return true;
}

const float* Data(const TF_Tensor* tensor) { return static_cast<const float*>(TF_TensorData(tensor)); }

// Mup2MomentumStep(w, v, g, lr, mu) -> (w_out, v_out): v_out = mu * v + g, w_out = w - lr * v_out.
// Heavy-ball SGD (PyTorch's and muSgd's form) for one parameter: 3 reads and 2 writes, where the
// composed form (mul, add, mul, sub) makes 4 passes and 4 fresh buffers.
void MomentumStep(void*, TF_OpKernelContext* context) {
  KernelCall call(context);
  TF_Tensor* w = call.Input(0);
  TF_Tensor* v = w ? call.Input(1) : nullptr;
  TF_Tensor* g = v ? call.Input(2) : nullptr;
  TF_Tensor* lr = g ? call.Input(3) : nullptr;
  TF_Tensor* mu = lr ? call.Input(4) : nullptr;
  if (mu == nullptr) return;
  if (!SameShape(w, v) || !SameShape(w, g)) {
    call.Fail("Mup2MomentumStep: w, v and g must have one shape");
    return;
  }
  if (TF_TensorElementCount(lr) != 1 || TF_TensorElementCount(mu) != 1) {
    call.Fail("Mup2MomentumStep: lr and mu must hold one value each");
    return;
  }
  const int rank = TF_NumDims(w);
  int64_t dims[32];
  if (rank > 32) {
    call.Fail("Mup2MomentumStep: rank above 32");
    return;
  }
  for (int d = 0; d < rank; d++) dims[d] = TF_Dim(w, d);
  const int64_t n = TF_TensorElementCount(w);
  TF_Tensor* w_out = call.Output(0, dims, rank, n);
  TF_Tensor* v_out = w_out ? call.Output(1, dims, rank, n) : nullptr;
  if (v_out == nullptr) return;
  const float* __restrict w_in = Data(w);
  const float* __restrict v_in = Data(v);
  const float* __restrict g_in = Data(g);
  float* __restrict w_next = static_cast<float*>(TF_TensorData(w_out));
  float* __restrict v_next = static_cast<float*>(TF_TensorData(v_out));
  const float rate = *Data(lr);
  const float momentum = *Data(mu);
  for (int64_t i = 0; i < n; i++) {
    const float velocity = v_in[i] * momentum + g_in[i];
    v_next[i] = velocity;
    w_next[i] = w_in[i] - velocity * rate;
  }
}

// Mup2SumOfSquares(x) -> scalar sum of x^2, where TF.js squares into a fresh buffer and then sums it.
// Blocks of 1024 are summed in float lanes, the blocks in double.
void SumOfSquares(void*, TF_OpKernelContext* context) {
  KernelCall call(context);
  TF_Tensor* x = call.Input(0);
  if (x == nullptr) return;
  TF_Tensor* out = call.Output(0, nullptr, 0, 1);
  if (out == nullptr) return;
  const float* __restrict values = Data(x);
  const int64_t n = TF_TensorElementCount(x);
  constexpr int64_t kBlock = 1024;
  double total = 0;
  for (int64_t start = 0; start < n; start += kBlock) {
    const int64_t end = start + kBlock < n ? start + kBlock : n;
    float block = 0;
#pragma omp simd reduction(+ : block)
    for (int64_t i = start; i < end; i++) block += values[i] * values[i];
    total += block;
  }
  *static_cast<float*>(TF_TensorData(out)) = static_cast<float>(total);
}

void OutputShapeOfInput0(TF_ShapeInferenceContext* context, TF_Status* status) {
  TF_ShapeHandle* shape = TF_NewShapeHandle();
  TF_ShapeInferenceContextGetInput(context, 0, shape, status);
  if (TF_GetCode(status) == TF_OK) {
    TF_ShapeInferenceContextSetOutput(context, 0, shape, status);
    if (TF_GetCode(status) == TF_OK) TF_ShapeInferenceContextSetOutput(context, 1, shape, status);
  }
  TF_DeleteShapeHandle(shape);
}

void ScalarOutput(TF_ShapeInferenceContext* context, TF_Status* status) {
  TF_ShapeHandle* scalar = TF_ShapeInferenceContextScalar(context);
  TF_ShapeInferenceContextSetOutput(context, 0, scalar, status);
  TF_DeleteShapeHandle(scalar);
}

struct OpSpec {
  const char* name;
  const char* inputs[5];
  const char* outputs[2];
  void (*shape)(TF_ShapeInferenceContext*, TF_Status*);
  void (*compute)(void*, TF_OpKernelContext*);
};

const OpSpec kOps[] = {
    {"Mup2MomentumStep",
     {"w: float", "v: float", "g: float", "lr: float", "mu: float"},
     {"w_out: float", "v_out: float"},
     &OutputShapeOfInput0,
     &MomentumStep},
    {"Mup2SumOfSquares", {"x: float"}, {"sum: float"}, &ScalarOutput, &SumOfSquares},
};

// Registers each op and its CPU kernel; false with the status's message on the first failure.
bool RegisterOps(TF_Status* status) {
  for (const OpSpec& spec : kOps) {
    TF_OpDefinitionBuilder* op = TF_NewOpDefinitionBuilder(spec.name);
    for (const char* input : spec.inputs)
      if (input != nullptr) TF_OpDefinitionBuilderAddInput(op, input);
    for (const char* output : spec.outputs)
      if (output != nullptr) TF_OpDefinitionBuilderAddOutput(op, output);
    TF_OpDefinitionBuilderSetShapeInferenceFunction(op, spec.shape);
    TF_RegisterOpDefinition(op, status);
    if (TF_GetCode(status) != TF_OK) return false;
    TF_KernelBuilder* kernel = TF_NewKernelBuilder(spec.name, "CPU", &CreateKernel, spec.compute, &DeleteKernel);
    TF_RegisterKernelBuilder(spec.name, kernel, status);
    if (TF_GetCode(status) != TF_OK) return false;
  }
  return true;
}

// Registration happens once per process: Node calls Init again for each worker thread that loads
// the addon (one library, one op registry), and TensorFlow aborts on an op registered twice. The
// library is linked -z nodelete, so it is never unloaded and reloaded with this flag reset.
std::once_flag registration;
std::string registration_error;

napi_value Init(napi_env env, napi_value exports) {
  std::call_once(registration, [] {
    TF_Status* status = TF_NewStatus();
    if (!RegisterOps(status)) registration_error = TF_Message(status);
    TF_DeleteStatus(status);
  });
  if (!registration_error.empty()) {
    napi_throw_error(env, nullptr, registration_error.c_str());
    return nullptr;
  }
  napi_value names;
  napi_create_array(env, &names);
  uint32_t index = 0;
  for (const OpSpec& spec : kOps) {
    napi_value name;
    napi_create_string_utf8(env, spec.name, NAPI_AUTO_LENGTH, &name);
    napi_set_element(env, names, index++, name);
  }
  napi_set_named_property(env, exports, "ops", names);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
