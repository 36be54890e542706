import * as tf from '@tensorflow/tfjs';

const SQRT_HALF = Math.SQRT1_2;
const INV_SQRT_TWO_PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * GELU(x) = x·Φ(x) = ½x(1 + erf(x/√2)), the exact form (ViT, PyTorch's
 * default), from Erf, which wasm has (it lacks a Gelu kernel, DESIGN.md §3).
 * The gradient Φ(x) + x·φ(x) is written out: autodiff of the composed form
 * records five kernels and keeps their inputs alive until the backward pass.
 */
const geluImpl = tf.customGrad((input, save) => {
  const x = input as tf.Tensor;
  (save as tf.GradSaveFunc)([x]);
  return {
    value: tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, SQRT_HALF)), 1)),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [savedX] = saved as [tf.Tensor];
      const cdf = tf.mul(tf.add(tf.erf(tf.mul(savedX, SQRT_HALF)), 1), 0.5);
      const density = tf.mul(tf.exp(tf.mul(tf.square(savedX), -0.5)), INV_SQRT_TWO_PI);
      return [tf.mul(dy, tf.add(cdf, tf.mul(savedX, density)))];
    },
  };
});

export function gelu<T extends tf.Tensor>(x: T): T {
  return geluImpl(x) as T;
}
