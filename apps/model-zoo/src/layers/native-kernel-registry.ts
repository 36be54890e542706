import * as tf from '@tensorflow/tfjs';

// What registering a TensorFlow op as a TF.js kernel of the 'tensorflow' backend takes: tfjs-node's
// backend runs any TensorFlow op by name (executeSingleOutput), which is what its own kernels do.

export interface NativeAttribute {
  readonly name: string;
  readonly type: number;
  readonly value: number | string | boolean;
}

/** What these kernels use of tfjs-node's NodeJSKernelBackend. */
export interface NativeBackend {
  readonly binding: {
    readonly TF_ATTR_TYPE: number;
    readonly TF_ATTR_STRING: number;
    readonly TF_ATTR_FLOAT: number;
    readonly TF_ATTR_BOOL: number;
    readonly TF_ATTR_INT: number;
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

export const typeAttribute = (
  backend: NativeBackend,
  name = 'T',
  dtype = backend.binding.TF_FLOAT,
): NativeAttribute => ({
  name,
  type: backend.binding.TF_ATTR_TYPE,
  value: dtype,
});

export function register(
  kernelName: string,
  kernelFunc: (backend: NativeBackend, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap) => unknown,
) {
  if (tf.getKernel(kernelName, 'tensorflow') !== undefined) return;
  tf.registerKernel({
    kernelName,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, backend, attrs }) =>
      kernelFunc(backend as unknown as NativeBackend, inputs, attrs ?? {}) as tf.TensorInfo | tf.TensorInfo[],
  });
}

/** tf.registerGradient, once per kernel (a second registration would override with a warning). */
export function registerGradient(config: tf.GradConfig): void {
  if (tf.getGradient(config.kernelName) === undefined) tf.registerGradient(config);
}
