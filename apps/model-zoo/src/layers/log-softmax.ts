import * as tf from '@tensorflow/tfjs';
import { layerForms } from './layer-forms.js';

/** log softmax as x − logSumExp(x) (wasm has no LogSoftmax kernel, DESIGN.md §3), or tf.logSoftmax (layerForms()). */
export function logSoftmax(logits: tf.Tensor2D): tf.Tensor2D {
  if (layerForms().logSoftmax === 'stock') return tf.logSoftmax(logits);
  return tf.sub(logits, tf.logSumExp(logits, 1, true));
}

/** Mean softmax cross-entropy of logits [batch, classes] against integer labels [batch]. */
export function softmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const classes = logits.shape[1];
    const picked = tf.sum(tf.mul(logSoftmax(logits), tf.oneHot(tf.cast(labels, 'int32'), classes)), 1);
    return tf.neg(tf.mean(picked)) as tf.Scalar;
  });
}
