import * as tf from '@tensorflow/tfjs';
import { layerForms } from './layer-forms.js';

/**
 * max(x, 0) whose gradient is dy ⊙ [x > 0]: one comparison, a cast and a multiply.
 * tf.relu's gradient multiplies by tf.step(x), which tfjs-node composes from six ops
 * (isNaN, greater, two fills and two selects) over the whole activation. It differs only
 * at NaN inputs, where it gives 0 like PyTorch's relu backward (a NaN upstream gradient
 * still comes through, as NaN · 0 is NaN).
 */
const maskedRelu = tf.customGrad((input, save) => {
  const x = input as tf.Tensor;
  (save as tf.GradSaveFunc)([x]);
  return {
    value: tf.relu(x),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
      tf.mul(dy, tf.cast(tf.greater(saved[0] as tf.Tensor, 0), 'float32')),
    ],
  };
});

/** ReLU in the backend's fastest gradient form (layerForms().relu). */
export function relu<T extends tf.Tensor>(x: T): T {
  return layerForms().relu === 'greater-mask' ? (maskedRelu(x) as T) : tf.relu(x);
}
