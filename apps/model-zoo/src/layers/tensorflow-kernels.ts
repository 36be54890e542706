import * as tf from '@tensorflow/tfjs';
import { ADDON_FORM_KERNELS, registerAddonKernels } from './addon-kernels.js';
import { type NativeAttribute, type NativeBackend, register, typeAttribute } from './native-kernel-registry.js';

/**
 * TensorFlow kernels that tfjs-node has but does not expose as TF.js ops, registered as TF.js
 * kernels of the 'tensorflow' backend under our own names, so a layer can call one kernel where
 * TF.js would compose several (each TF.js op is one call into libtensorflow and one fresh output
 * buffer). mup2's own addon adds its fused kernels where it loads (addon-kernels.ts).
 */
export const TENSORFLOW_KERNELS = {
  /** ReluGrad(dy, x) = dy ⊙ [x > 0]: one kernel where tf.relu's gradient builds tf.step from six. */
  reluGrad: 'Mup2ReluGrad',
  /** SigmoidGrad(y, dy) = dy ⊙ y ⊙ (1 − y), σ's gradient from its output: one kernel for TF.js's three. */
  sigmoidGrad: 'Mup2SigmoidGrad',
  /** BiasAddGrad(x): the sum over every axis but the last, a reduction TF.js runs as a transpose and a sum. */
  columnSums: 'Mup2ColumnSums',
  /** SparseSoftmaxCrossEntropyWithLogits: each row's loss and its gradient in one pass. */
  sparseSoftmaxCrossEntropy: 'Mup2SparseSoftmaxCrossEntropy',
  /**
   * FusedBatchNormV3 in training mode on NCHW data: each channel normalised by its own mean and
   * (biased) variance over the other axes; outputs [y, reserve 1, reserve 2, reserve 3] (what its
   * gradient needs). With the rows of a matrix as channels, that is layer normalisation.
   */
  channelNorm: 'Mup2ChannelNorm',
  /** FusedBatchNormGradV3 of the above: the input's gradient from the output's, given its reserves. */
  channelNormGrad: 'Mup2ChannelNormGrad',
} as const;

/** FusedBatchNorm's attributes for NCHW data in training mode with the given epsilon. */
function batchNormAttributes(backend: NativeBackend, epsilon: number): NativeAttribute[] {
  const { binding } = backend;
  return [
    typeAttribute(backend),
    typeAttribute(backend, 'U'),
    { name: 'epsilon', type: binding.TF_ATTR_FLOAT, value: epsilon },
    { name: 'data_format', type: binding.TF_ATTR_STRING, value: 'NCHW' },
    { name: 'is_training', type: binding.TF_ATTR_BOOL, value: true },
  ];
}

/** Whether `layer`'s 'addon-kernel' form runs on `backend`: every kernel it calls is registered there. */
export function addonFormRuns(layer: keyof typeof ADDON_FORM_KERNELS, backend: string = tf.getBackend()): boolean {
  if (backend !== 'tensorflow') return false;
  registerTensorflowKernels();
  return ADDON_FORM_KERNELS[layer].every((name) => tf.getKernel(name, 'tensorflow') !== undefined);
}

let registered = false;

/** Registers the kernels above for the 'tensorflow' backend (once per thread; harmless where tfjs-node is absent). */
export function registerTensorflowKernels(): void {
  if (registered) return;
  registered = true;
  registerAddonKernels();
  register(TENSORFLOW_KERNELS.reluGrad, (backend, { dy, x }) =>
    backend.executeSingleOutput('ReluGrad', [typeAttribute(backend)], [dy as tf.TensorInfo, x as tf.TensorInfo]),
  );
  register(TENSORFLOW_KERNELS.sigmoidGrad, (backend, { y, dy }) =>
    backend.executeSingleOutput('SigmoidGrad', [typeAttribute(backend)], [y as tf.TensorInfo, dy as tf.TensorInfo]),
  );
  register(TENSORFLOW_KERNELS.columnSums, (backend, { x }) =>
    backend.executeSingleOutput(
      'BiasAddGrad',
      [typeAttribute(backend), { name: 'data_format', type: backend.binding.TF_ATTR_STRING, value: 'NHWC' }],
      [x as tf.TensorInfo],
    ),
  );
  register(TENSORFLOW_KERNELS.channelNorm, (backend, { x, scale, offset }, { epsilon }) => {
    const empty = tf.zeros([0]);
    const attributes = [
      ...batchNormAttributes(backend, epsilon as number),
      { name: 'exponential_avg_factor', type: backend.binding.TF_ATTR_FLOAT, value: 1 },
    ];
    const [y, mean, variance, ...reserves] = backend.executeMultipleOutputs(
      'FusedBatchNormV3',
      attributes,
      [x, scale, offset, empty, empty] as tf.TensorInfo[],
      6,
    );
    tf.dispose([empty, mean as tf.Tensor, variance as tf.Tensor]);
    return [y, ...reserves];
  });
  register(
    TENSORFLOW_KERNELS.channelNormGrad,
    (backend, { dy, x, scale, reserve1, reserve2, reserve3 }, { epsilon }) => {
      const [dx, ...rest] = backend.executeMultipleOutputs(
        'FusedBatchNormGradV3',
        batchNormAttributes(backend, epsilon as number),
        [dy, x, scale, reserve1, reserve2, reserve3] as tf.TensorInfo[],
        5,
      );
      tf.dispose(rest);
      return dx;
    },
  );
  register(TENSORFLOW_KERNELS.sparseSoftmaxCrossEntropy, (backend, { logits, labels }) =>
    backend.executeMultipleOutputs(
      'SparseSoftmaxCrossEntropyWithLogits',
      [typeAttribute(backend), typeAttribute(backend, 'Tlabels', backend.binding.TF_INT32)],
      [logits as tf.TensorInfo, labels as tf.TensorInfo],
      2,
    ),
  );
}

/** Whether the active backend can run the kernels above. */
export function hasTensorflowKernels(backend: string = tf.getBackend()): boolean {
  return backend === 'tensorflow';
}

/** Runs one of the kernels above (registering them first), as TF.js tensors. */
export function runTensorflowKernel(
  kernelName: string,
  inputs: tf.NamedTensorMap,
  attrs: tf.NamedAttrMap = {},
): tf.Tensor | tf.Tensor[] {
  registerTensorflowKernels();
  return tf.engine().runKernel(kernelName, inputs, attrs) as tf.Tensor | tf.Tensor[];
}
