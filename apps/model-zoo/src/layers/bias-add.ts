import * as tf from '@tensorflow/tfjs';
import { columnSums } from './column-sums.js';

/**
 * x + bias with bias broadcast over rows. The stock gradient sums dy over its
 * leading axis, which wasm runs through a transpose; this one uses
 * columnSums (a plain matMul).
 */
const biasAddImpl = tf.customGrad((input, offset) => {
  const x = input as tf.Tensor2D;
  const bias = offset as tf.Tensor1D;
  return {
    value: tf.add(x, bias),
    // A new handle on dy: the tape may dispose the accumulated gradient of x and of the output separately.
    gradFunc: (dy: tf.Tensor) => [tf.reshape(dy, x.shape), columnSums(dy as tf.Tensor2D)],
  };
});

/** x [rows, n] + bias [n]. */
export function biasAdd(x: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  if (x.shape[1] !== bias.shape[0]) {
    throw new Error(`biasAdd: x has ${x.shape[1]} columns but the bias has ${bias.shape[0]} entries.`);
  }
  return biasAddImpl(x, bias) as tf.Tensor2D;
}
