import * as tf from '@tensorflow/tfjs';

/**
 * TensorFlow kernels that tfjs-node has but does not expose as TF.js ops, registered as TF.js
 * kernels of the 'tensorflow' backend under our own names, so a layer can call one kernel where
 * TF.js would compose several (each TF.js op is one call into libtensorflow and one fresh output
 * buffer). tfjs-node's backend runs any TensorFlow op by name (`executeSingleOutput`), which is
 * what its own kernels do; these are three more of the same kind.
 */
export const TENSORFLOW_KERNELS = {
  /** ReluGrad(dy, x) = dy ⊙ [x > 0]: one kernel where tf.relu's gradient builds tf.step from six. */
  reluGrad: 'Mup2ReluGrad',
  /** BiasAddGrad(x): the sum over every axis but the last, a reduction TF.js runs as a transpose and a sum. */
  columnSums: 'Mup2ColumnSums',
  /** SparseSoftmaxCrossEntropyWithLogits: each row's loss and its gradient in one pass. */
  sparseSoftmaxCrossEntropy: 'Mup2SparseSoftmaxCrossEntropy',
} as const;

interface NativeAttribute {
  readonly name: string;
  readonly type: number;
  readonly value: number | string;
}

/** What these kernels use of tfjs-node's NodeJSKernelBackend. */
interface NativeBackend {
  readonly binding: {
    readonly TF_ATTR_TYPE: number;
    readonly TF_ATTR_STRING: number;
    readonly TF_FLOAT: number;
    readonly TF_INT32: number;
  };
  executeSingleOutput(name: string, attributes: NativeAttribute[], inputs: tf.TensorInfo[]): tf.Tensor;
  executeMultipleOutputs(
    name: string,
    attributes: NativeAttribute[],
    inputs: tf.TensorInfo[],
    count: number,
  ): tf.Tensor[];
}

const typeAttribute = (backend: NativeBackend, name = 'T', dtype = backend.binding.TF_FLOAT): NativeAttribute => ({
  name,
  type: backend.binding.TF_ATTR_TYPE,
  value: dtype,
});

function register(kernelName: string, kernelFunc: (backend: NativeBackend, inputs: tf.NamedTensorInfoMap) => unknown) {
  if (tf.getKernel(kernelName, 'tensorflow') !== undefined) return;
  tf.registerKernel({
    kernelName,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, backend }) =>
      kernelFunc(backend as unknown as NativeBackend, inputs) as tf.TensorInfo | tf.TensorInfo[],
  });
}

let registered = false;

/** Registers the kernels above for the 'tensorflow' backend (once per thread; harmless where tfjs-node is absent). */
export function registerTensorflowKernels(): void {
  if (registered) return;
  registered = true;
  register(TENSORFLOW_KERNELS.reluGrad, (backend, { dy, x }) =>
    backend.executeSingleOutput('ReluGrad', [typeAttribute(backend)], [dy as tf.TensorInfo, x as tf.TensorInfo]),
  );
  register(TENSORFLOW_KERNELS.columnSums, (backend, { x }) =>
    backend.executeSingleOutput(
      'BiasAddGrad',
      [typeAttribute(backend), { name: 'data_format', type: backend.binding.TF_ATTR_STRING, value: 'NHWC' }],
      [x as tf.TensorInfo],
    ),
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
export function runTensorflowKernel(kernelName: string, inputs: tf.NamedTensorMap): tf.Tensor | tf.Tensor[] {
  registerTensorflowKernels();
  return tf.engine().runKernel(kernelName, inputs) as tf.Tensor | tf.Tensor[];
}
