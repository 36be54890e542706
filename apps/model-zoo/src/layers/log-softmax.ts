import * as tf from '@tensorflow/tfjs';
import { ADDON_LAYER_KERNELS } from './addon-kernels.js';
import { layerForms } from './layer-forms.js';
import { runTensorflowKernel, TENSORFLOW_KERNELS } from './tensorflow-kernels.js';

/** log softmax as x − logSumExp(x) (wasm has no LogSoftmax kernel, DESIGN.md §3), or tf.logSoftmax (layerForms()). */
export function logSoftmax(logits: tf.Tensor2D): tf.Tensor2D {
  if (layerForms().logSoftmax === 'stock') return tf.logSoftmax(logits);
  return tf.sub(logits, tf.logSumExp(logits, 1, true));
}

/** Mean softmax cross-entropy of logits [batch, classes] against integer labels [batch]. */
export function softmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const form = layerForms().crossEntropy;
  if (form !== 'composed') return kernelSoftmaxCrossEntropy(logits, labels, form);
  return tf.tidy(() => {
    const classes = logits.shape[1];
    const picked = tf.sum(tf.mul(logSoftmax(logits), tf.oneHot(tf.cast(labels, 'int32'), classes)), 1);
    return tf.neg(tf.mean(picked)) as tf.Scalar;
  });
}

/**
 * The same through one kernel that returns the loss and its gradient together, so the backward
 * pass is one scaling of the kept gradient. 'fused-kernel': TensorFlow's
 * SparseSoftmaxCrossEntropyWithLogits, each row's loss and softmax − onehot, whose mean and 1/N
 * TF.js adds (a Mean and a division per pass). 'addon-kernel': mup2's kernel, which gives the mean
 * and the gradient already divided by N. A label outside [0, classes) is an error of either kernel
 * (the composed form gives it a zero one-hot row).
 */
function kernelSoftmaxCrossEntropy(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  form: 'fused-kernel' | 'addon-kernel',
): tf.Scalar {
  const rows = logits.shape[0];
  return tf.tidy(() => {
    const indices = labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32');
    const crossEntropy = tf.customGrad((input, save) => {
      const inputs = { logits: input as tf.Tensor2D, labels: indices };
      let loss: tf.Scalar;
      let gradient: tf.Tensor2D;
      if (form === 'addon-kernel') {
        [loss, gradient] = tf.engine().runKernel(ADDON_LAYER_KERNELS.softmaxCrossEntropyMean, inputs) as [
          tf.Scalar,
          tf.Tensor2D,
        ];
      } else {
        const [losses, rowGradient] = runTensorflowKernel(TENSORFLOW_KERNELS.sparseSoftmaxCrossEntropy, inputs) as [
          tf.Tensor1D,
          tf.Tensor2D,
        ];
        [loss, gradient] = [tf.mean(losses) as tf.Scalar, rowGradient];
      }
      (save as tf.GradSaveFunc)([gradient]);
      const perRow = form === 'fused-kernel';
      return {
        value: loss,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
          tf.mul(saved[0] as tf.Tensor, perRow ? tf.div(dy, rows) : dy),
        ],
      };
    });
    return crossEntropy(logits) as tf.Scalar;
  });
}
