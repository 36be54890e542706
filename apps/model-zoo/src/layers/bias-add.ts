import * as tf from '@tensorflow/tfjs';
import { ADDON_LAYER_KERNELS } from './addon-kernels.js';
import { columnSums } from './column-sums.js';
import { layerForms } from './layer-forms.js';

/**
 * x + bias with bias broadcast over rows (tf.add, or mup2's kernel: layerForms().biasAdd).
 * The stock gradient sums dy over its leading axis, which wasm runs through a transpose;
 * this one uses columnSums (in the backend's form).
 */
const biasAddImpl = tf.customGrad((input, offset) => {
  const x = input as tf.Tensor2D;
  const bias = offset as tf.Tensor1D;
  return {
    value:
      layerForms().biasAdd === 'addon-kernel'
        ? (tf.engine().runKernel(ADDON_LAYER_KERNELS.biasAdd, { x, bias }) as tf.Tensor2D)
        : tf.add(x, bias),
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
