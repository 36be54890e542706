import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADDON_LAYER_KERNELS } from './addon-kernels.js';
import { fastMatMul, THIN_SIDE } from './fast-matmul.js';
import { layerForms } from './layer-forms.js';
import { registerTensorflowKernels } from './tensorflow-kernels.js';
import { maxAbsDifference, testValues } from './test-values.js';

// mup2's Mup2ThinMatMul (apps/native/src/fused-ops/thin-matmul-kernels.cc), which `pnpm native:install`
// builds, against float64 loops: every transpose case, in each of the kernel's three loop orders
// (the inner side longest, the columns longest, the rows longest), at sizes with vector remainders;
// its gradients against the float64 products they stand for; and the zoo's dense products through it.

const onTensorflow = tf.getBackend() === 'tensorflow';

/** op(a)·op(b) in float64, a and b row-major with the given stored shapes. */
function product64(
  a: number[],
  aShape: [number, number],
  b: number[],
  bShape: [number, number],
  transpose: number,
): number[] {
  const ta = (transpose & 1) !== 0;
  const tb = (transpose & 2) !== 0;
  const [m, k] = ta ? [aShape[1], aShape[0]] : aShape;
  const n = tb ? bShape[0] : bShape[1];
  const at = (i: number, t: number) => (ta ? a[t * m + i] : a[i * k + t]) as number;
  const bt = (t: number, j: number) => (tb ? b[j * k + t] : b[t * n + j]) as number;
  const c: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let t = 0; t < k; t++) sum += at(i, t) * bt(t, j);
      c.push(sum);
    }
  }
  return c;
}

/** The [rows, cols] transpose of x stored as [cols, rows]. */
const transposed = (x: number[], rows: number, cols: number) =>
  Array.from({ length: rows * cols }, (_, i) => x[(i % cols) * rows + Math.floor(i / cols)] as number);

const thin = (a: tf.Tensor, b: tf.Tensor, transpose: number) =>
  tf.engine().runKernel(ADDON_LAYER_KERNELS.thinMatMul, { a, b }, { transpose }) as tf.Tensor2D;

// [m, k, n]: the inner side longest (dot products), the columns longest, the rows longest; the
// MLP's readout and its two gradient products; one with a side of 1.
const SHAPES: [number, number, number][] = [
  [7, 131, 5],
  [9, 3, 133],
  [129, 6, 11],
  [128, 1024, 10],
  [128, 10, 1024],
  [1024, 128, 10],
  [1, 17, 1],
];

describe.skipIf(!onTensorflow)("mup2's thin product kernel on tensorflow", () => {
  beforeAll(() => registerTensorflowKernels());

  it('is registered and chosen as the matMul form where the addon loads', () => {
    expect(layerForms().matMul).toBe('addon-kernel');
  });

  it.each(SHAPES)('[%i, %i] · [%i, …]: every transpose case equals the float64 product', (m, k, n) => {
    const before = tf.memory().numTensors;
    for (let transpose = 0; transpose < 4; transpose++) {
      const aShape: [number, number] = (transpose & 1) !== 0 ? [k, m] : [m, k];
      const bShape: [number, number] = (transpose & 2) !== 0 ? [n, k] : [k, n];
      const a = testValues(m * k, 1 + transpose, 2);
      const b = testValues(k * n, 11 + transpose, 1.5);
      const c = tf.tidy(() => thin(tf.tensor2d(a, aShape), tf.tensor2d(b, bShape), transpose));
      expect(c.shape).toEqual([m, n]);
      const expected = product64(a, aShape, b, bShape, transpose);
      // The float32 sum of k products is within k·2⁻²⁴·Σ|products| of the exact one (γ_k); rounding
      // errors that add up as a random walk stay within a few √k·2⁻²⁴·Σ|products|, the bound used here.
      const magnitudes = product64(a.map(Math.abs), aShape, b.map(Math.abs), bShape, transpose);
      const values = c.dataSync();
      const worst = expected.reduce(
        (largest, v, i) =>
          Math.max(
            largest,
            Math.abs((values[i] as number) - v) / (8 * Math.sqrt(k + 1) * 2 ** -24 * (magnitudes[i] as number) + 1e-30),
          ),
        0,
      );
      expect(worst).toBeLessThanOrEqual(1);
      c.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names the shapes when the inner dimensions differ, as fastMatMul reaches it without tf.matMul’s check', () => {
    const before = tf.memory().numTensors;
    const a = tf.zeros([4, 3]) as tf.Tensor2D;
    const b = tf.zeros([5, 2]) as tf.Tensor2D;
    const cube = tf.zeros([2, 5, 1]);
    expect(() => fastMatMul(a, b)).toThrow(/op\(a\) is \[4, 3\] and op\(b\) is \[5, 2\].*inner dimensions must match/);
    expect(() => thin(a, cube, 0)).toThrow(/must be matrices \(rank 2\), got ranks 2 and 3/);
    tf.dispose([a, b, cube]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gradients of every transpose case equal the float64 products dy·op(b)ᵀ and op(a)ᵀ·dy, transposed back', () => {
    const [m, k, n] = [33, 70, 9];
    const before = tf.memory().numTensors;
    for (let transpose = 0; transpose < 4; transpose++) {
      const ta = (transpose & 1) !== 0;
      const tb = (transpose & 2) !== 0;
      const aShape: [number, number] = ta ? [k, m] : [m, k];
      const bShape: [number, number] = tb ? [n, k] : [k, n];
      const a = testValues(m * k, 3 + transpose, 1);
      const b = testValues(k * n, 5 + transpose, 1);
      const dy = testValues(m * n, 7 + transpose, 1);
      const [da, db] = tf.tidy(() => {
        const upstream = tf.tensor2d(dy, [m, n]);
        const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(thin(x, y, transpose), upstream)))([
          tf.tensor2d(a, aShape),
          tf.tensor2d(b, bShape),
        ]);
        return grads.map((g) => Array.from(g.dataSync()));
      }) as [number[], number[]];
      // op(a) as [m, k] and op(b) as [k, n], plain arrays, to write the gradients without transposes.
      const opA = ta ? transposed(a, m, k) : a;
      const opB = tb ? transposed(b, k, n) : b;
      const dOpA = product64(dy, [m, n], opB, [k, n], 2); // dy · op(b)ᵀ: [m, k]
      const dOpB = product64(opA, [m, k], dy, [m, n], 1); // op(a)ᵀ · dy: [k, n]
      expect(maxAbsDifference(da as number[], ta ? transposed(dOpA, k, m) : dOpA)).toBeLessThan(1e-4);
      expect(maxAbsDifference(db as number[], tb ? transposed(dOpB, n, k) : dOpB)).toBeLessThan(1e-4);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('fastMatMul takes it only for a side of at most THIN_SIDE, and gives what tf.matMul gives either way', async () => {
    const cases: [number, number, number, boolean][] = [
      [64, 96, THIN_SIDE, true],
      [THIN_SIDE, 40, 50, true],
      [64, THIN_SIDE + 1, 80, false],
    ];
    const before = tf.memory().numTensors;
    for (const [m, k, n, thinExpected] of cases) {
      const a = tf.tensor2d(testValues(m * k, 2, 1), [m, k]);
      const b = tf.tensor2d(testValues(k * n, 4, 1), [k, n]);
      const profile = await tf.profile(() => fastMatMul(a, b).dispose());
      expect(profile.kernelNames.includes(ADDON_LAYER_KERNELS.thinMatMul)).toBe(thinExpected);
      const [c, stock] = [fastMatMul(a, b), tf.matMul(a, b)];
      expect(maxAbsDifference(c.dataSync(), stock.dataSync())).toBeLessThan(1e-4);
      tf.dispose([a, b, c, stock]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
