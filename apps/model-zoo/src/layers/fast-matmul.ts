import * as tf from '@tensorflow/tfjs';
import { ADDON_LAYER_KERNELS } from './addon-kernels.js';
import { layerForms } from './layer-forms.js';

/**
 * a·b with a gradient that materialises the transposes and then calls a plain
 * matMul (DESIGN.md §3). The stock gradient calls matMul with transposeA /
 * transposeB, which the wasm backend runs 3–8× slower than the plain form; on
 * the MLP of the benchmark this made the SGD step 5–12× faster. The values are
 * the same as tf.matMul's on every backend.
 */
const fastMatMulImpl = tf.customGrad((a, b, save) => {
  const left = a as tf.Tensor2D;
  const right = b as tf.Tensor2D;
  (save as tf.GradSaveFunc)([left, right]);
  return {
    value: tf.matMul(left, right),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [savedLeft, savedRight] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [
        tf.matMul(dy as tf.Tensor2D, tf.transpose(savedRight)),
        tf.matMul(tf.transpose(savedLeft), dy as tf.Tensor2D),
      ];
    },
  };
});

/**
 * The matMul form 'addon-kernel' runs a product as mup2's Mup2ThinMatMul when one of its three sides
 * (rows of a, the inner side, columns of b) is at most this; so are the sides of its two gradient
 * products. Chosen by timing (docs/performance-log.md, "Thin products on the calling thread").
 */
export const THIN_SIDE = 10;

/** a·b in the backend's fastest form (layerForms().matMul): the gradient above, tf.matMul's own, or the thin kernel's. */
export function fastMatMul(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const form = layerForms().matMul;
  if (form === 'plain-products') return fastMatMulImpl(a, b) as tf.Tensor2D;
  if (form === 'addon-kernel' && Math.min(a.shape[0], a.shape[1], b.shape[1]) <= THIN_SIDE) {
    return tf.engine().runKernel(ADDON_LAYER_KERNELS.thinMatMul, { a, b }, { transpose: 0 }) as tf.Tensor2D;
  }
  return tf.matMul(a, b);
}
