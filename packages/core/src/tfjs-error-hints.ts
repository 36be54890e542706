import { getGradient } from '@tensorflow/tfjs-core';
import { MissingKernelError, Mup2Error } from './errors.js';
import { WASM_GRADIENT_KERNELS } from './wasm-gradient-kernels.js';

const MISSING_GRADIENT = /^Cannot compute gradient: gradient function not found for (\w+)\./;
const MISSING_KERNEL = /^Kernel '(\w+)' not registered for backend '(\w+)'/;

/**
 * TF.js's own error for a gradient or kernel that is not registered, as a MissingKernelError that says
 * what registers it (the original is its `cause`); any other error as it is. The two usual causes:
 * an application that imports only @tensorflow/tfjs-core, which registers no gradients, and a
 * convolution on wasm without registerWasmGradientKernels.
 */
export function explainTfjsError(error: unknown, context: string): unknown {
  if (!(error instanceof Error)) return error;
  const { message } = error;
  if (Mup2Error.isInstance(error)) return error;
  const gradient = MISSING_GRADIENT.exec(message);
  if (gradient !== null) {
    // When not even Add has a gradient, nothing registered any: tfjs-core was imported alone.
    const noneRegistered = getGradient('Add') === undefined;
    return new MissingKernelError(
      noneRegistered
        ? `${context}: TF.js has no gradient for '${gradient[1]}' because no gradients are registered: ` +
            "@tensorflow/tfjs-core alone registers none. Import '@tensorflow/tfjs' (or '@tensorflow/tfjs-node') " +
            'once in your application, before training.'
        : `${context}: TF.js has no gradient for the op '${gradient[1]}' in your loss; write the loss with ops ` +
            'TF.js can differentiate, or give that part a gradient with tf.customGrad.',
      { cause: error },
    );
  }
  const kernel = MISSING_KERNEL.exec(message);
  if (kernel !== null && kernel[2] === 'wasm' && WASM_GRADIENT_KERNELS.includes(kernel[1] as string)) {
    return new MissingKernelError(
      `${context}: the wasm backend has no '${kernel[1]}' kernel, which training a convolution needs. Call ` +
        'registerWasmGradientKernels() from @mup2/core once after choosing wasm (initBackend() does it when it picks wasm).',
      { cause: error },
    );
  }
  return error;
}
