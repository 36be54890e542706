// Fused float32 kernels for mup2 on the native TF.js backend (tfjs-node): the optimizer step's
// (optimizer-kernels.cc) and the model zoo's layers' (layer-kernels.cc).
//
// Each one does in one pass over memory what TF.js composes from several ops (one kernel call and
// one fresh output buffer each). Written against TensorFlow's C kernel API (tensorflow/c/kernels.h
// and ops.h, whose headers tfjs-node's deps/include holds), so nothing depends on TensorFlow's C++
// ABI; built by `pnpm native:install` next to libtensorflow and loaded into Node as an N-API addon,
// whose loading registers the ops with libtensorflow.
#include <node_api.h>
#include <signal.h>
#include <sys/auxv.h>

#include <cstdlib>
#include <mutex>
#include <string>

#include "kernel-call.h"
#include "tensorflow/c/ops.h"

namespace {

void* CreateStateless(TF_OpKernelConstruction*) { return nullptr; }
void DeleteStateless(void*) {}

// Every output shaped like input 0.
void OutputsLikeInput0(TF_ShapeInferenceContext* context, TF_Status* status, int outputs) {
  TF_ShapeHandle* shape = TF_NewShapeHandle();
  TF_ShapeInferenceContextGetInput(context, 0, shape, status);
  for (int i = 0; i < outputs && TF_GetCode(status) == TF_OK; i++)
    TF_ShapeInferenceContextSetOutput(context, i, shape, status);
  TF_DeleteShapeHandle(shape);
}
void OneLikeInput0(TF_ShapeInferenceContext* context, TF_Status* status) { OutputsLikeInput0(context, status, 1); }
void TwoLikeInput0(TF_ShapeInferenceContext* context, TF_Status* status) { OutputsLikeInput0(context, status, 2); }
// Outputs 0 and 1 shaped like input 0, output 2 a scalar.
void TwoLikeInput0AndScalar(TF_ShapeInferenceContext* context, TF_Status* status) {
  TwoLikeInput0(context, status);
  if (TF_GetCode(status) != TF_OK) return;
  TF_ShapeHandle* scalar = TF_ShapeInferenceContextScalar(context);
  TF_ShapeInferenceContextSetOutput(context, 2, scalar, status);
  TF_DeleteShapeHandle(scalar);
}

void ScalarOutput(TF_ShapeInferenceContext* context, TF_Status* status) {
  TF_ShapeHandle* scalar = TF_ShapeInferenceContextScalar(context);
  TF_ShapeInferenceContextSetOutput(context, 0, scalar, status);
  TF_DeleteShapeHandle(scalar);
}

// Output 0 a scalar, output 1 shaped like input 0.
void ScalarAndLikeInput0(TF_ShapeInferenceContext* context, TF_Status* status) {
  ScalarOutput(context, status);
  if (TF_GetCode(status) != TF_OK) return;
  TF_ShapeHandle* shape = TF_NewShapeHandle();
  TF_ShapeInferenceContextGetInput(context, 0, shape, status);
  if (TF_GetCode(status) == TF_OK) TF_ShapeInferenceContextSetOutput(context, 1, shape, status);
  TF_DeleteShapeHandle(shape);
}

// Output 0 shaped like input 0, outputs 1 … `vectors` vectors (of a length the kernel finds).
void LikeInput0AndVectors(TF_ShapeInferenceContext* context, TF_Status* status, int vectors) {
  OneLikeInput0(context, status);
  TF_ShapeHandle* vector = TF_ShapeInferenceContextVectorFromSize(context, -1);
  for (int i = 1; i <= vectors && TF_GetCode(status) == TF_OK; i++)
    TF_ShapeInferenceContextSetOutput(context, i, vector, status);
  TF_DeleteShapeHandle(vector);
}
void LikeInput0AndVector(TF_ShapeInferenceContext* context, TF_Status* status) {
  LikeInput0AndVectors(context, status, 1);
}
void LikeInput0AndTwoVectors(TF_ShapeInferenceContext* context, TF_Status* status) {
  LikeInput0AndVectors(context, status, 2);
}

// The output's shape left unknown (the C API builds no shape from dimensions; the kernel checks its input).
void UnknownOutput(TF_ShapeInferenceContext* context, TF_Status* status) {
  TF_ShapeInferenceContextSetUnknownShape(context, status);
}

struct OpSpec {
  const char* name;
  const char* inputs[6];
  const char* outputs[3];
  const char* attribute;
  void (*shape)(TF_ShapeInferenceContext*, TF_Status*);
  void (*compute)(void*, TF_OpKernelContext*);
  void* (*create)(TF_OpKernelConstruction*) = &CreateStateless;
  void (*destroy)(void*) = &DeleteStateless;
};

const OpSpec kOps[] = {
    {"Mup2MomentumStep",
     {"w: float", "v: float", "g: float", "lr: float", "mu: float"},
     {"w_out: float", "v_out: float"},
     nullptr,
     &TwoLikeInput0,
     &mup2::MomentumStep},
    {"Mup2CheckedMomentumStep",
     {"w: float", "v: float", "g: float", "lr: float", "mu: float"},
     {"w_out: float", "v_out: float", "finite: float"},
     nullptr,
     &TwoLikeInput0AndScalar,
     &mup2::CheckedMomentumStep},
    {"Mup2SumOfSquares", {"x: float"}, {"sum: float"}, nullptr, &ScalarOutput, &mup2::SumOfSquares},
    {"Mup2InnerProduct", {"x: float", "y: float"}, {"sum: float"}, nullptr, &ScalarOutput, &mup2::InnerProduct},
    {"Mup2AddScaled", {"w: float", "d: float", "s: float"}, {"moved: float"}, nullptr, &OneLikeInput0, &mup2::AddScaled},
    {"Mup2AllFinite", {"x: N * float"}, {"finite: float"}, "N: int >= 1", &ScalarOutput, &mup2::AllFinite},
    {"Mup2MovedWeights",
     {"w: N * float", "d: N * float", "n: N * float", "a: float", "b: float", "radius: float"},
     {"moved: N * float", "norm_squared: float"},
     "N: int >= 1",
     &UnknownOutput,
     &mup2::MovedWeights},
    {"Mup2SoftmaxCrossEntropyMean",
     {"logits: float", "labels: int32"},
     {"loss: float", "backprop: float"},
     nullptr,
     &ScalarAndLikeInput0,
     &mup2::SoftmaxCrossEntropyMean},
    {"Mup2Gelu", {"x: float"}, {"y: float"}, nullptr, &OneLikeInput0, &mup2::Gelu},
    {"Mup2GeluGrad", {"dy: float", "x: float"}, {"dx: float"}, nullptr, &OneLikeInput0, &mup2::GeluGrad},
    {"Mup2Relu", {"x: float"}, {"y: float"}, nullptr, &OneLikeInput0, &mup2::Relu},
    {"Mup2ReluBackward", {"dy: float", "x: float"}, {"dx: float"}, nullptr, &OneLikeInput0, &mup2::ReluBackward},
    {"Mup2LayerNorm",
     {"x: float", "gamma: float", "beta: float"},
     {"y: float", "mean: float", "rstd: float"},
     "epsilon: float",
     &LikeInput0AndTwoVectors,
     &mup2::LayerNorm,
     &mup2::CreateAttribute<float, mup2::kEpsilon>,
     &mup2::DeleteAttribute<float>},
    {"Mup2ScaleGrad",
     {"dy: float", "x: float", "gamma: float"},
     {"dx: float", "dgamma: float"},
     nullptr,
     &LikeInput0AndVector,
     &mup2::ScaleGrad},
    {"Mup2LayerNormGrad",
     {"dy: float", "x: float", "gamma: float", "mean: float", "rstd: float"},
     {"dx: float", "dgamma: float", "dbeta: float"},
     nullptr,
     &LikeInput0AndTwoVectors,
     &mup2::LayerNormGrad},
    {"Mup2Softmax",
     {"x: float"},
     {"y: float"},
     "scale: float",
     &OneLikeInput0,
     &mup2::Softmax,
     &mup2::CreateAttribute<float, mup2::kScale>,
     &mup2::DeleteAttribute<float>},
    {"Mup2SoftmaxGrad",
     {"dy: float", "y: float"},
     {"dx: float"},
     "scale: float",
     &OneLikeInput0,
     &mup2::SoftmaxGrad,
     &mup2::CreateAttribute<float, mup2::kScale>,
     &mup2::DeleteAttribute<float>},
    {"Mup2BiasAdd", {"x: float", "bias: float"}, {"y: float"}, nullptr, &OneLikeInput0, &mup2::BiasAdd},
    {"Mup2SwapAxes", {"x: float"}, {"y: float"}, nullptr, &UnknownOutput, &mup2::SwapAxes},
    {"Mup2ThinMatMul",
     {"a: float", "b: float"},
     {"product: float"},
     "transpose: int",
     &UnknownOutput,
     &mup2::ThinMatMul,
     &mup2::CreateAttribute<int32_t, mup2::kTranspose>,
     &mup2::DeleteAttribute<int32_t>},
};

// Registers each op and its CPU kernel; false with the status's message on the first failure.
bool RegisterOps(TF_Status* status) {
  for (const OpSpec& spec : kOps) {
    TF_OpDefinitionBuilder* op = TF_NewOpDefinitionBuilder(spec.name);
    for (const char* input : spec.inputs)
      if (input != nullptr) TF_OpDefinitionBuilderAddInput(op, input);
    for (const char* output : spec.outputs)
      if (output != nullptr) TF_OpDefinitionBuilderAddOutput(op, output);
    if (spec.attribute != nullptr) TF_OpDefinitionBuilderAddAttr(op, spec.attribute);
    TF_OpDefinitionBuilderSetShapeInferenceFunction(op, spec.shape);
    TF_RegisterOpDefinition(op, status);
    if (TF_GetCode(status) != TF_OK) return false;
    TF_KernelBuilder* kernel = TF_NewKernelBuilder(spec.name, "CPU", spec.create, spec.compute, spec.destroy);
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

// oneDNN's AVX2 sgemm kernel, which TensorFlow's products run, points %rsp at a page-aligned heap
// buffer (its workspace) while it works on an inner dimension above 252; the thread's real stack
// waits in %rbp. A signal delivered then has the kernel write its frame below %rsp, into the heap:
// glibc later aborts ("corrupted size vs. prev_size", "double free or corruption"). Reproduced in C
// against libtensorflow with a handler that only counts, and without TensorFlow by pointing %rsp at
// an aligned_alloc'd buffer (docs/native-backend.md). A handler installed with SA_ONSTACK runs on
// the thread's alternate signal stack instead, and so does its frame: V8's SIGPROF handler (the
// sampling profiler, `node --cpu-prof`) is. So each JS thread that loads this addon gets one, unless
// it has one already; it is released when the thread's environment ends.
void ReleaseAlternateStack(void* memory) {
  stack_t disable{};
  disable.ss_flags = SS_DISABLE;
  sigaltstack(&disable, nullptr);
  std::free(memory);
}

void GiveThreadAnAlternateStack(napi_env env) {
  stack_t current;
  if (sigaltstack(nullptr, &current) != 0 || !(current.ss_flags & SS_DISABLE)) return;
  size_t size = 256 * 1024;
  const size_t minimum = getauxval(AT_MINSIGSTKSZ);
  if (minimum * 4 > size) size = minimum * 4;
  stack_t stack{};
  stack.ss_sp = std::malloc(size);
  stack.ss_size = size;
  if (stack.ss_sp == nullptr) return;
  if (sigaltstack(&stack, nullptr) != 0) {
    std::free(stack.ss_sp);
    return;
  }
  napi_add_env_cleanup_hook(env, &ReleaseAlternateStack, stack.ss_sp);
}

napi_value Init(napi_env env, napi_value exports) {
  GiveThreadAnAlternateStack(env);
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
