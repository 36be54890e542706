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
  if (form === 'fused-kernel') return fusedSoftmaxCrossEntropy(logits, labels);
  if (form === 'addon-kernel') return addonSoftmaxCrossEntropy(logits, labels);
  return tf.tidy(() => {
    const classes = logits.shape[1];
    const picked = tf.sum(tf.mul(logSoftmax(logits), tf.oneHot(tf.cast(labels, 'int32'), classes)), 1);
    return tf.neg(tf.mean(picked)) as tf.Scalar;
  });
}

/**
 * The same through TensorFlow's SparseSoftmaxCrossEntropyWithLogits, which returns each row's
 * loss and its gradient softmax − onehot together: the backward pass is one scaling of the
 * kept gradient. A label outside [0, classes) is an error of the kernel here (the composed form
 * gives it a zero one-hot row).
 */
function fusedSoftmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const rows = logits.shape[0];
  return tf.tidy(() => {
    const indices = labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32');
    const crossEntropy = tf.customGrad((input, save) => {
      const [losses, gradient] = runTensorflowKernel(TENSORFLOW_KERNELS.sparseSoftmaxCrossEntropy, {
        logits: input as tf.Tensor2D,
        labels: indices,
      }) as [tf.Tensor1D, tf.Tensor2D];
      (save as tf.GradSaveFunc)([gradient]);
      return {
        value: tf.mean(losses) as tf.Scalar,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.mul(saved[0] as tf.Tensor, tf.div(dy, rows))],
      };
    });
    return crossEntropy(logits) as tf.Scalar;
  });
}

/**
 * The same through mup2's kernel, which also takes the rows' mean and gives the gradient already
 * divided by the row count: the backward pass is one scaling by dy, and neither a Mean nor a
 * division runs. A label outside [0, classes) is an error of the kernel, as in fusedSoftmaxCrossEntropy.
 */
function addonSoftmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const indices = labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32');
    const crossEntropy = tf.customGrad((input, save) => {
      const [loss, gradient] = tf.engine().runKernel(ADDON_LAYER_KERNELS.softmaxCrossEntropyMean, {
        logits: input as tf.Tensor2D,
        labels: indices,
      }) as [tf.Scalar, tf.Tensor2D];
      (save as tf.GradSaveFunc)([gradient]);
      return { value: loss, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.mul(saved[0] as tf.Tensor, dy)] };
    });
    return crossEntropy(logits) as tf.Scalar;
  });
}
