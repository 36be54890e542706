import * as tf from '@tensorflow/tfjs-core';
import {
  type ConvGeometry,
  conv2dFilterGradient,
  conv2dInputGradient,
  depthwiseFilterGradient,
  depthwiseInputGradient,
} from './conv-gradient-forms.js';

type Shape4 = [number, number, number, number];
type Attributes = Record<string, unknown>;

/**
 * A kernel computed with tfjs ops (which run the backend's own kernels) instead of backend code.
 * The engine wraps the returned TensorInfo in a tensor of its own, so the result's buffer is
 * handed over to it: one more reference, then the result tensor is released.
 */
function composedKernel(compute: (inputs: Record<string, tf.Tensor4D>, attributes: Attributes) => tf.Tensor) {
  return ({ inputs, attrs, backend }: { inputs: tf.NamedTensorInfoMap; attrs?: unknown; backend: unknown }) => {
    const attributes = (attrs ?? {}) as Attributes;
    if (attributes.dataFormat !== undefined && attributes.dataFormat !== 'NHWC') {
      // wasm's forward convolutions refuse NCHW too; say so in the same terms.
      throw new Error(
        `@mup2/core's wasm convolution gradients support dataFormat 'NHWC' only, got '${attributes.dataFormat}'.`,
      );
    }
    const result = tf.tidy(() => compute(inputs as Record<string, tf.Tensor4D>, attributes));
    (backend as tf.KernelBackend).incRef(result.dataId);
    const info: tf.TensorInfo = { dataId: result.dataId, shape: result.shape, dtype: result.dtype };
    result.dispose();
    return info;
  };
}

const geometry = (attributes: Attributes): ConvGeometry & { dilations?: [number, number] | number } =>
  attributes as unknown as ConvGeometry & { dilations?: [number, number] | number };

interface WasmGradientKernel {
  readonly kernelName: string;
  /** wasm has this kernel, but as a loop several times slower than the forward convolution: ours replaces it. */
  readonly replacesSlowStock: boolean;
  readonly kernelFunc: ReturnType<typeof composedKernel>;
}

/** The kernels training a convolution needs on wasm, beyond what @tensorflow/tfjs-backend-wasm 4.22 registers. */
const KERNELS: readonly WasmGradientKernel[] = [
  {
    kernelName: 'Conv2DBackpropFilter',
    replacesSlowStock: false,
    kernelFunc: composedKernel(({ x, dy }, attributes) =>
      conv2dFilterGradient(x as tf.Tensor4D, dy as tf.Tensor4D, attributes.filterShape as Shape4, geometry(attributes)),
    ),
  },
  {
    kernelName: 'Conv2DBackpropInput',
    replacesSlowStock: true,
    kernelFunc: composedKernel(({ dy, filter }, attributes) =>
      conv2dInputGradient(
        attributes.inputShape as Shape4,
        dy as tf.Tensor4D,
        filter as tf.Tensor4D,
        geometry(attributes),
      ),
    ),
  },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropFilter',
    replacesSlowStock: false,
    kernelFunc: composedKernel(({ x, dy }, attributes) =>
      depthwiseFilterGradient(
        x as tf.Tensor4D,
        dy as tf.Tensor4D,
        attributes.filterShape as Shape4,
        geometry(attributes),
      ),
    ),
  },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropInput',
    replacesSlowStock: false,
    kernelFunc: composedKernel(({ dy, filter }, attributes) =>
      depthwiseInputGradient(
        attributes.inputShape as Shape4,
        dy as tf.Tensor4D,
        filter as tf.Tensor4D,
        geometry(attributes),
      ),
    ),
  },
];

/** The kernel names registerWasmGradientKernels provides. */
export const WASM_GRADIENT_KERNELS: readonly string[] = KERNELS.map((kernel) => kernel.kernelName);

/**
 * Makes convolutions train on the wasm backend: registers, for 'wasm' only, the gradient kernels
 * @tensorflow/tfjs-backend-wasm lacks (Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter,
 * DepthwiseConv2dNativeBackpropInput), and replaces its Conv2DBackpropInput, a loop several times
 * slower than its Conv2D. Each is one stride-1 forward convolution of wasm's own (XNNPACK) with
 * pads and transposes around it, equal to the stock gradient up to float rounding. Without it, the
 * first batch of a `tf.layers.conv2d` model on wasm fails with "Kernel 'Conv2DBackpropFilter' not
 * registered for backend 'wasm'".
 *
 * `initBackend()` calls it when it picks wasm (and says so in its log line); call it yourself when
 * you choose wasm with `tf.setBackend('wasm')`. Safe to call more than once. A kernel that a future
 * tfjs-backend-wasm registers itself is left alone. Returns the kernel names it registered by this call.
 * NHWC only, dilation 1 (as tfjs-core's own convolution gradients).
 */
export function registerWasmGradientKernels(): string[] {
  const registered: string[] = [];
  for (const { kernelName, replacesSlowStock, kernelFunc } of KERNELS) {
    const existing = tf.getKernel(kernelName, 'wasm');
    if (existing?.kernelFunc === kernelFunc) continue;
    if (existing !== undefined) {
      if (!replacesSlowStock) continue;
      tf.unregisterKernel(kernelName, 'wasm');
    }
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
    registered.push(kernelName);
  }
  return registered;
}
