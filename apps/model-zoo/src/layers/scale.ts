import * as tf from '@tensorflow/tfjs';
import { ADDON_LAYER_KERNELS } from './addon-kernels.js';
import { layerForms } from './layer-forms.js';

/**
 * x ⊙ γ with the gain γ over the last axis of x (a norm layer's gain), in the backend's form
 * (layerForms().scale): tf.mul and its autodiff, or one addon kernel for both gradients.
 */
export function scaleFeatures<T extends tf.Tensor>(x: T, gain: tf.Tensor1D): T {
  if (x.shape[x.rank - 1] !== gain.shape[0]) {
    throw new Error(
      `scaleFeatures: x has ${x.shape[x.rank - 1]} features (last axis) but the gain has ${gain.shape[0]}.`,
    );
  }
  if (layerForms().scale === 'addon-kernel') {
    return tf.engine().runKernel(ADDON_LAYER_KERNELS.scale, { x, gamma: gain }) as T;
  }
  return tf.mul(x, gain);
}
