import * as tf from '@tensorflow/tfjs';
import { ADDON_LAYER_KERNELS } from './addon-kernels.js';
import { layerForms } from './layer-forms.js';
import { runTensorflowKernel, TENSORFLOW_KERNELS } from './tensorflow-kernels.js';

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

/** max(x, 0) whose gradient is TensorFlow's ReluGrad kernel: dy ⊙ [x > 0] in one pass (tensorflow only). */
const kernelRelu = tf.customGrad((input, save) => {
  const x = input as tf.Tensor;
  (save as tf.GradSaveFunc)([x]);
  return {
    value: tf.relu(x),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
      runTensorflowKernel(TENSORFLOW_KERNELS.reluGrad, { dy, x: saved[0] as tf.Tensor }) as tf.Tensor,
    ],
  };
});

/** ReLU in the backend's fastest gradient form (layerForms().relu). */
export function relu<T extends tf.Tensor>(x: T): T {
  const form = layerForms().relu;
  if (form === 'greater-mask') return maskedRelu(x) as T;
  if (form === 'relu-grad-kernel') return kernelRelu(x) as T;
  if (form === 'addon-kernel') return tf.engine().runKernel(ADDON_LAYER_KERNELS.relu, { x }) as T;
  return tf.relu(x);
}
