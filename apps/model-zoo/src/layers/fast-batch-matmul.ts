import * as tf from '@tensorflow/tfjs';
import { layerForms } from './layer-forms.js';

/**
 * Batched a·b ([batch, m, k] · [batch, k, n]) whose gradient materialises the
 * transposes and calls the plain batched matMul, as fastMatMul does for 2-D
 * (DESIGN.md §3): wasm runs transposeA / transposeB several times slower.
 */
const fastBatchMatMulImpl = tf.customGrad((a, b, save) => {
  const left = a as tf.Tensor3D;
  const right = b as tf.Tensor3D;
  (save as tf.GradSaveFunc)([left, right]);
  return {
    value: tf.matMul(left, right),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [savedLeft, savedRight] = saved as [tf.Tensor3D, tf.Tensor3D];
      const gradient = dy as tf.Tensor3D;
      return [
        tf.matMul(gradient, tf.transpose(savedRight, [0, 2, 1])),
        tf.matMul(tf.transpose(savedLeft, [0, 2, 1]), gradient),
      ];
    },
  };
});

export function fastBatchMatMul(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  if (a.shape[0] !== b.shape[0] || a.shape[2] !== b.shape[1]) {
    throw new Error(`fastBatchMatMul: cannot multiply [${a.shape.join(', ')}] by [${b.shape.join(', ')}].`);
  }
  return layerForms().matMul === 'plain-products' ? (fastBatchMatMulImpl(a, b) as tf.Tensor3D) : tf.matMul(a, b);
}
