import * as tf from '@tensorflow/tfjs';
import { ADDON_LAYER_KERNELS } from './addon-kernels.js';
import { layerForms } from './layer-forms.js';
import { runTensorflowKernel, TENSORFLOW_KERNELS } from './tensorflow-kernels.js';

/** 2·√(2/π): tanh(u) = 2σ(2u) − 1, so ½x(1 + tanh(u)) = x·σ(2u). */
const TWICE_SQRT_TWO_OVER_PI = 2 * Math.sqrt(2 / Math.PI);
const CUBIC = 0.044715;

/**
 * GELU in its tanh form, ½x(1 + tanh(√(2/π)(x + 0.044715x³))) (Hendrycks &
 * Gimpel; BERT, GPT-2), within 5e-4 of the exact x·Φ(x). wasm has no Gelu
 * kernel (DESIGN.md §3), and its Erf, Tanh and Exp are scalar loops 15–25×
 * slower than its vectorised Sigmoid, so the identity ½(1 + tanh(u)) = σ(2u)
 * computes it as x·σ(v) with v = 2√(2/π)(x + 0.044715x³). The gradient is written
 * out, σ(v) + x·σ(v)(1 − σ(v))·v′, so nothing but x is kept for the backward pass.
 */
const geluImpl = tf.customGrad((input, save) => {
  const x = input as tf.Tensor;
  (save as tf.GradSaveFunc)([x]);
  return {
    value: tf.mul(x, tf.sigmoid(argument(x))),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [savedX] = saved as [tf.Tensor];
      const gate = tf.sigmoid(argument(savedX));
      const slope = tf.mul(tf.add(tf.mul(tf.square(savedX), 3 * CUBIC), 1), TWICE_SQRT_TWO_OVER_PI);
      const derivative = tf.add(gate, tf.mul(tf.mul(savedX, tf.mul(gate, tf.sub(1, gate))), slope));
      return [tf.mul(dy, derivative)];
    },
  };
});

/** v = 2√(2/π)(x + 0.044715x³) = 2√(2/π)·x·(1 + 0.044715x²). */
function argument(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.add(tf.mul(tf.square(x), CUBIC * TWICE_SQRT_TWO_OVER_PI), TWICE_SQRT_TWO_OVER_PI));
}

/**
 * The same with σ's gradient as TensorFlow's SigmoidGrad kernel (tensorflow only), keeping x, x² and
 * σ(v) from the forward pass: dx = dy·σ(v) + SigmoidGrad(σ(v), dy·x)·v′, v′ = 2√(2/π)(1 + 3·0.044715x²).
 */
const kernelGeluImpl = tf.customGrad((input, save) => {
  const x = input as tf.Tensor;
  const square = tf.square(x);
  const gate = tf.sigmoid(tf.mul(x, tf.add(tf.mul(square, CUBIC * TWICE_SQRT_TWO_OVER_PI), TWICE_SQRT_TWO_OVER_PI)));
  (save as tf.GradSaveFunc)([x, square, gate]);
  return {
    value: tf.mul(x, gate),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [savedX, savedSquare, savedGate] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const slope = tf.add(tf.mul(savedSquare, 3 * CUBIC * TWICE_SQRT_TWO_OVER_PI), TWICE_SQRT_TWO_OVER_PI);
      const throughGate = runTensorflowKernel(TENSORFLOW_KERNELS.sigmoidGrad, {
        y: savedGate,
        dy: tf.mul(dy, savedX),
      }) as tf.Tensor;
      return [tf.add(tf.mul(dy, savedGate), tf.mul(throughGate, slope))];
    },
  };
});

/** GELU (tanh form) in the form layerForms().gelu names: a gradient above, autodiff, or mup2's addon kernels. */
export function gelu<T extends tf.Tensor>(x: T): T {
  const form = layerForms().gelu;
  if (form === 'autodiff') return tf.tidy(() => tf.mul(x, tf.sigmoid(argument(x)))) as T;
  if (form === 'sigmoid-grad-kernel') return kernelGeluImpl(x) as T;
  if (form === 'addon-kernel') return runTensorflowKernel(ADDON_LAYER_KERNELS.gelu, { x }) as T;
  return geluImpl(x) as T;
}
