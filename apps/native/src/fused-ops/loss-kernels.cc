// The mean softmax cross-entropy of logits [N, C] against integer labels [N], with its gradient, in
// one kernel: TensorFlow's SparseSoftmaxCrossEntropyWithLogits gives each row's loss and the
// gradient, and then TF.js takes their mean (Mean, whose axes tensor tfjs-node makes at every call)
// and divides the incoming gradient by N (RealDiv): two more kernels per pass, ~0.12 ms of a
// 1.8 ms SGD step of the main job's narrowest MLP (docs/performance.md).
#include <cmath>
#include <cstdio>

#include "kernel-call.h"

namespace mup2 {

// Mup2SoftmaxCrossEntropyMean(logits [N, C], labels [N] int32) -> (loss, backprop [N, C]):
// loss = (1/N) Σ_i (log Σ_c exp(x_ic) − x_i,label_i), backprop = (softmax(x_i) − onehot(label_i)) / N,
// the gradient of loss. Each row is shifted by its largest finite-or-infinite logit; a NaN logit
// makes its row's loss and gradient NaN (as the composition's). A label outside [0, C) fails the op.
void SoftmaxCrossEntropyMean(void*, TF_OpKernelContext* context) {
  KernelCall call(context);
  TF_Tensor* in[2];
  if (!call.Inputs(2, in)) return;
  TF_Tensor *logits = in[0], *labels = in[1];
  if (TF_NumDims(logits) != 2 || TF_Dim(logits, 1) < 1 || TF_NumDims(labels) != 1 ||
      TF_Dim(labels, 0) != TF_Dim(logits, 0)) {
    call.Fail(
        "Mup2SoftmaxCrossEntropyMean: logits must be [N, C] with C >= 1 and labels a vector of N integers");
    return;
  }
  const int64_t rows = TF_Dim(logits, 0);
  const int64_t classes = TF_Dim(logits, 1);
  const int32_t* label = static_cast<const int32_t*>(TF_TensorData(labels));
  for (int64_t i = 0; i < rows; i++) {
    if (label[i] < 0 || label[i] >= classes) {
      char message[160];
      std::snprintf(message, sizeof message,
                    "Mup2SoftmaxCrossEntropyMean: label %d of row %lld is outside [0, %lld), the classes of the logits",
                    static_cast<int>(label[i]), static_cast<long long>(i), static_cast<long long>(classes));
      call.Fail(message);
      return;
    }
  }
  TF_Tensor* loss = call.Output(0, nullptr, 0);
  TF_Tensor* backprop = loss ? call.OutputLike(1, logits) : nullptr;
  if (backprop == nullptr) return;
  const float* x = Data(logits);
  float* gradient = MutableData(backprop);
  const double scale = rows > 0 ? 1.0 / static_cast<double>(rows) : 0.0;
  double total = 0;
  for (int64_t i = 0; i < rows; i++) {
    const float* row = x + i * classes;
    float* out = gradient + i * classes;
    float shift = row[0];
    for (int64_t c = 1; c < classes; c++) shift = row[c] > shift ? row[c] : shift;
    double sum = 0;
    for (int64_t c = 0; c < classes; c++) sum += std::exp(static_cast<double>(row[c]) - shift);
    const double log_sum = std::log(sum);
    total += log_sum + shift - row[label[i]];
    for (int64_t c = 0; c < classes; c++) {
      const double probability = std::exp(static_cast<double>(row[c]) - shift - log_sum);
      out[c] = static_cast<float>(((c == label[i] ? probability - 1.0 : probability)) * scale);
    }
  }
  // The mean of no rows is NaN, as tf.mean of an empty tensor.
  *MutableData(loss) = rows > 0 ? static_cast<float>(total * scale) : NAN;
}

}  // namespace mup2
