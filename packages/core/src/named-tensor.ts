import type { Tensor } from '@tensorflow/tfjs-core';

/** tf.Optimizer's { name, tensor } pair, which tfjs-core uses but does not export. */
export interface NamedTensor {
  name: string;
  tensor: Tensor;
}
