import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { runTensorflowKernel, TENSORFLOW_KERNELS } from './tensorflow-kernels.js';
import { maxAbsDifference, testValues } from './test-values.js';

// Mup2MatMul (TensorFlow's MatMul, or BatchMatMulV2 with b transposed over an inner dimension of
// 64 or more), the tensorflow backend's 2-D product, against float64 loops: its value and the
// gradients it registers, in all four transpose cases and both ops, and no tensor left behind.

const onTensorflow = tf.getBackend() === 'tensorflow';

/** op(A)·op(B) in float64, A stored [rowsA, colsA] row-major. */
function product64(
  a: number[],
  [rowsA, colsA]: [number, number],
  b: number[],
  [rowsB, colsB]: [number, number],
  transposeA: boolean,
  transposeB: boolean,
): { values: number[]; shape: [number, number] } {
  const at = (i: number, k: number) => (transposeA ? (a[k * colsA + i] as number) : (a[i * colsA + k] as number));
  const bt = (k: number, j: number) => (transposeB ? (b[j * colsB + k] as number) : (b[k * colsB + j] as number));
  const [m, inner] = transposeA ? [colsA, rowsA] : [rowsA, colsA];
  const n = transposeB ? rowsB : colsB;
  const values: number[] = [];
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < inner; k++) sum += at(i, k) * bt(k, j);
      values.push(sum);
    }
  return { values, shape: [m, n] };
}

/** Largest difference relative to the largest expected magnitude (float32 sums of 129 products). */
const relativeError = (actual: number[], expected: number[]) =>
  maxAbsDifference(actual, expected) / Math.max(...expected.map(Math.abs));

describe.skipIf(!onTensorflow)('Mup2MatMul on tensorflow', () => {
  // Inner dimension 129 takes BatchMatMulV2 where b is transposed, 10 MatMul's transpose_b.
  describe.each([
    [false, false, 129],
    [false, true, 129],
    [true, false, 129],
    [true, true, 129],
    [false, true, 10],
    [true, true, 10],
  ])('transposeA %s, transposeB %s, inner dimension %i', (transposeA, transposeB, k) => {
    it('gives op(a)·op(b) and the gradients of Σ (op(a)·op(b)) ⊙ u as float64 loops do', () => {
      const [m, n] = [37, 23];
      const shapeA: [number, number] = transposeA ? [k, m] : [m, k];
      const shapeB: [number, number] = transposeB ? [n, k] : [k, n];
      const a = testValues(m * k, 1, 2);
      const b = testValues(k * n, 2, 2);
      const u = testValues(m * n, 3, 1);
      const before = tf.memory().numTensors;
      const [value, da, db] = tf.tidy(() => {
        const multiply = (x: tf.Tensor, y: tf.Tensor) =>
          runTensorflowKernel(TENSORFLOW_KERNELS.matMul, { a: x, b: y }, { transposeA, transposeB }) as tf.Tensor;
        const inputs = [tf.tensor2d(a, shapeA), tf.tensor2d(b, shapeB)] as const;
        const upstream = tf.tensor2d(u, [m, n]);
        const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(multiply(x, y), upstream)))([...inputs]);
        return [multiply(...inputs), ...grads].map((t) => Array.from(t.dataSync()));
      }) as number[][];
      expect(tf.memory().numTensors).toBe(before);
      const expectedValue = product64(a, shapeA, b, shapeB, transposeA, transposeB).values;
      expect(relativeError(value as number[], expectedValue)).toBeLessThan(1e-5);
      // d/dA_{rc} Σ_ij C_ij u_ij, straight from the definition of C, in float64.
      const expectedDa = a.map((_, index) => {
        const [r, c] = [Math.floor(index / shapeA[1]), index % shapeA[1]];
        const [i, kk] = transposeA ? [c, r] : [r, c];
        let sum = 0;
        for (let j = 0; j < n; j++)
          sum += (u[i * n + j] as number) * (transposeB ? (b[j * k + kk] as number) : (b[kk * n + j] as number));
        return sum;
      });
      const expectedDb = b.map((_, index) => {
        const [r, c] = [Math.floor(index / shapeB[1]), index % shapeB[1]];
        const [kk, j] = transposeB ? [c, r] : [r, c];
        let sum = 0;
        for (let i = 0; i < m; i++)
          sum += (u[i * n + j] as number) * (transposeA ? (a[kk * m + i] as number) : (a[i * k + kk] as number));
        return sum;
      });
      expect(relativeError(da as number[], expectedDa)).toBeLessThan(1e-5);
      expect(relativeError(db as number[], expectedDb)).toBeLessThan(1e-5);
    });
  });
});
