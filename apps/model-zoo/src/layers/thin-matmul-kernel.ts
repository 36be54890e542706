import * as tf from '@tensorflow/tfjs';
import { register, registerGradient } from './native-kernel-registry.js';

/** A product's operands and its output's gradient, as the gradient rules below name them. */
type ThinOperand = 'a' | 'b' | 'dy';
/** One gradient as a product: its two operands and its transpose flags. */
type ThinProduct = readonly [ThinOperand, ThinOperand, number];

/** The gradients of op(a) · op(b) by its transpose flags (bit 0: a, bit 1: b), each a thin product of a, b and dy. */
const THIN_MATMUL_GRADIENTS: readonly { a: ThinProduct; b: ThinProduct }[] = [
  { a: ['dy', 'b', 2], b: ['a', 'dy', 1] },
  { a: ['b', 'dy', 2], b: ['a', 'dy', 0] },
  { a: ['dy', 'b', 0], b: ['dy', 'a', 1] },
  { a: ['b', 'dy', 3], b: ['dy', 'a', 3] },
];

/**
 * Registers mup2's Mup2ThinMatMul (apps/native/src/fused-ops/thin-matmul-kernels.cc) as the TF.js
 * kernel `kernelName` of 'tensorflow', attribute transpose, with a gradient that runs it again.
 */
export function registerThinMatMul(kernelName: string): void {
  register(kernelName, (backend, { a, b }, { transpose }) =>
    backend.executeSingleOutput(
      'Mup2ThinMatMul',
      [{ name: 'transpose', type: backend.binding.TF_ATTR_INT, value: transpose as number }],
      [a, b] as tf.TensorInfo[],
    ),
  );
  registerGradient({
    kernelName,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b], attrs) => {
      const operands: Record<ThinOperand, tf.Tensor> = { dy: dy as tf.Tensor, a: a as tf.Tensor, b: b as tf.Tensor };
      const rule = THIN_MATMUL_GRADIENTS[attrs.transpose as number];
      if (rule === undefined) throw new Error(`Mup2ThinMatMul: transpose must be 0–3, got ${String(attrs.transpose)}`);
      const product =
        ([first, second, transpose]: ThinProduct) =>
        () =>
          tf.engine().runKernel(kernelName, { a: operands[first], b: operands[second] }, { transpose }) as tf.Tensor;
      return { a: product(rule.a), b: product(rule.b) };
    },
  });
}
