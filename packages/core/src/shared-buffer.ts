import * as tf from '@tensorflow/tfjs-core';

/**
 * A new tensor that holds the same buffer as `tensor`, without copying it.
 *
 * Why not tf.clone: on the wasm backend Identity copies the data, and
 * SamOptimizer holds every perturbed weight's original this way on each step.
 * Holding a reference also makes the restore exact, where w + ε − ε is not.
 */
export function shareBuffer(tensor: tf.Tensor): tf.Tensor {
  const engine = tf.engine();
  const view = engine.makeTensorFromDataId(tensor.dataId, tensor.shape, tensor.dtype);
  engine.backend.incRef(tensor.dataId);
  return view;
}
