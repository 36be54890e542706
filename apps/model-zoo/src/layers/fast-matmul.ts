import * as tf from '@tensorflow/tfjs';
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

/** a·b in the backend's fastest form (layerForms().matMul): the gradient above, or tf.matMul's own. */
export function fastMatMul(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return layerForms().matMul === 'stock' ? tf.matMul(a, b) : (fastMatMulImpl(a, b) as tf.Tensor2D);
}
