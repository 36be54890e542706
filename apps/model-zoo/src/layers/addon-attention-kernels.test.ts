import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADDON_LAYER_KERNELS, dropKernelsWithoutOps } from './addon-kernels.js';
import { selfAttention } from './attention.js';
import { biasAdd } from './bias-add.js';
import { layerFormRuns, layerForms, withLayerForms } from './layer-forms.js';
import { addonFormRuns, registerTensorflowKernels } from './tensorflow-kernels.js';
import { maxAbsDifference, testValues } from './test-values.js';

// The attention's kernels of mup2's addon (apps/native/src/fused-ops/attention-kernels.cc): softmax
// and its gradient, the swap of middle axes, and the bias add, against float64 loops and index
// arithmetic written here, at sizes that run the vectorised loops and their remainders.
// attention.test.ts runs the whole layer in the 'addon-kernel' form against float64 and stock ops.

const onTensorflow = tf.getBackend() === 'tensorflow';

const run = (kernel: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}) =>
  tf.engine().runKernel(kernel, inputs, attrs) as tf.Tensor;

/** softmax(s·x) per row of `features`, in float64. */
function softmax64(x: number[], features: number, scale: number): number[] {
  const y: number[] = [];
  for (let start = 0; start < x.length; start += features) {
    const row = x.slice(start, start + features).map((v) => scale * v);
    const top = Math.max(...row);
    const exps = row.map((v) => Math.exp(v - top));
    const total = exps.reduce((a, b) => a + b, 0);
    for (const e of exps) y.push(e / total);
  }
  return y;
}

describe.skipIf(!onTensorflow)("mup2's addon attention kernels on tensorflow", () => {
  beforeAll(() => registerTensorflowKernels());

  it('are chosen for the attention and the bias add where the addon loads', () => {
    expect([addonFormRuns('attention'), addonFormRuns('biasAdd')]).toEqual([true, true]);
    expect(layerForms()).toMatchObject({ attention: 'addon-kernel', biasAdd: 'addon-kernel' });
  });

  it.each([
    0.37, -0.8,
  ])('softmax(s·x) and its gradient equal float64 ones on [3, 701, 67] at s = %s, leaving no tensor', (scale) => {
    const [outer, rows, features] = [3, 701, 67];
    const count = outer * rows * features;
    const x = testValues(count, 1, 6);
    const upstream = testValues(count, 2, 1);
    const before = tf.memory().numTensors;
    const [y, dx] = tf.tidy(() => {
      const input = tf.tensor3d(x, [outer, rows, features]);
      const weights = tf.tensor3d(upstream, [outer, rows, features]);
      const softmax = (t: tf.Tensor) => run(ADDON_LAYER_KERNELS.softmax, { x: t }, { scale });
      const [gradient] = tf.grads((t: tf.Tensor) => tf.sum(tf.mul(softmax(t), weights)))([input]);
      return [softmax(input).dataSync(), (gradient as tf.Tensor).dataSync()];
    }) as Float32Array[];
    expect(tf.memory().numTensors).toBe(before);
    const expected = softmax64(x, features, scale);
    expect(maxAbsDifference(y as Float32Array, expected)).toBeLessThan(1e-6);
    // d/dx Σ u·softmax(s·x) = s·y ⊙ (u − Σ u·y) per row.
    const expectedDx: number[] = [];
    for (let start = 0; start < count; start += features) {
      const yRow = expected.slice(start, start + features);
      const uRow = upstream.slice(start, start + features);
      const dot = yRow.reduce((a, v, j) => a + v * (uRow[j] as number), 0);
      yRow.forEach((v, j) => expectedDx.push(scale * v * ((uRow[j] as number) - dot)));
    }
    expect(maxAbsDifference(dx as Float32Array, expectedDx)).toBeLessThan(1e-6);
  });

  it('softmax gives what TensorFlow’s Softmax gives on rows with NaN, ±∞ and large values', () => {
    const rows = [
      [1, Number.NaN, 2],
      [Number.POSITIVE_INFINITY, 0, 1],
      [Number.NEGATIVE_INFINITY, 0, 1],
      [1000, -1000, 999],
      [-88, -89, -90],
    ];
    const ours = tf.tidy(() => run(ADDON_LAYER_KERNELS.softmax, { x: tf.tensor2d(rows) }, { scale: 1 }).arraySync());
    const theirs = tf.tidy(() => tf.softmax(tf.tensor2d(rows)).arraySync());
    expect(ours).toEqual(theirs);
  });

  it('the swap of middle axes moves every entry where index arithmetic says, and is its own gradient', () => {
    for (const dims of [
      [3, 5, 7, 4],
      [2, 9, 11, 1],
      [64, 4, 64, 16],
    ] as [number, number, number, number][]) {
      const [outer, a, b, inner] = dims;
      const count = outer * a * b * inner;
      const x = testValues(count, 3, 2);
      const upstream = testValues(count, 4, 1);
      const before = tf.memory().numTensors;
      const [y, dx, shape] = tf.tidy(() => {
        const input = tf.tensor4d(x, dims);
        const swap = (t: tf.Tensor) => run(ADDON_LAYER_KERNELS.swapAxes, { x: t });
        const weights = tf.tensor4d(upstream, [outer, b, a, inner]);
        const [gradient] = tf.grads((t: tf.Tensor) => tf.sum(tf.mul(swap(t), weights)))([input]);
        const swapped = swap(input);
        return [swapped.dataSync(), (gradient as tf.Tensor).dataSync(), swapped.shape];
      }) as [Float32Array, Float32Array, number[]];
      expect(tf.memory().numTensors).toBe(before);
      expect(shape).toEqual([outer, b, a, inner]);
      let worstValue = 0;
      let worstGradient = 0;
      for (let o = 0; o < outer; o++)
        for (let i = 0; i < a; i++)
          for (let j = 0; j < b; j++)
            for (let k = 0; k < inner; k++) {
              const from = ((o * a + i) * b + j) * inner + k;
              const to = ((o * b + j) * a + i) * inner + k;
              worstValue = Math.max(worstValue, Math.abs((y[to] as number) - Math.fround(x[from] as number)));
              worstGradient = Math.max(
                worstGradient,
                Math.abs((dx[from] as number) - Math.fround(upstream[to] as number)),
              );
            }
      expect([worstValue, worstGradient]).toEqual([0, 0]);
    }
  });

  it('biasAdd in the addon form gives x + bias and the float64 gradients (dy, and dy summed over rows)', () => {
    const [rows, features] = [1037, 67];
    const x = testValues(rows * features, 5, 3);
    const bias = testValues(features, 6, 1);
    const upstream = testValues(rows * features, 7, 1);
    const before = tf.memory().numTensors;
    const [y, dx, dbias] = withLayerForms({ biasAdd: 'addon-kernel' }, () =>
      tf.tidy(() => {
        const input = tf.tensor2d(x, [rows, features]);
        const offset = tf.tensor1d(bias);
        const weights = tf.tensor2d(upstream, [rows, features]);
        const f = (t: tf.Tensor, b: tf.Tensor) => biasAdd(t as tf.Tensor2D, b as tf.Tensor1D);
        const gradients = tf.grads((t: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(t, b), weights)))([input, offset]);
        return [f(input, offset).dataSync(), ...gradients.map((g) => g.dataSync())];
      }),
    ) as Float32Array[];
    expect(tf.memory().numTensors).toBe(before);
    expect(
      maxAbsDifference(
        y as Float32Array,
        x.map((v, i) => v + (bias[i % features] as number)),
      ),
    ).toBeLessThan(1e-6);
    expect(maxAbsDifference(dx as Float32Array, upstream)).toBeLessThan(1e-6);
    const columnSums = new Array<number>(features).fill(0);
    upstream.forEach((u, i) => {
      columnSums[i % features] = (columnSums[i % features] as number) + u;
    });
    expect(maxAbsDifference(dbias as Float32Array, columnSums)).toBeLessThan(1e-3); // sums of 1,037 rows
  });

  it('an addon without the softmax op (built from older source) leaves the attention in its batched-matmul form', () => {
    const kernels = [ADDON_LAYER_KERNELS.softmax, ADDON_LAYER_KERNELS.softmaxGrad, ADDON_LAYER_KERNELS.biasAdd];
    const saved = kernels.map((name) => tf.getKernel(name, 'tensorflow') as tf.KernelConfig);
    const others = Object.values(ADDON_LAYER_KERNELS).filter((name) => name !== ADDON_LAYER_KERNELS.softmax);
    try {
      dropKernelsWithoutOps(new Set(others.filter((name) => name !== ADDON_LAYER_KERNELS.biasAdd)));
      expect(kernels.map((name) => tf.getKernel(name, 'tensorflow'))).toEqual([undefined, saved[1], undefined]);
      expect(layerForms()).toMatchObject({ attention: 'batched-matmul', biasAdd: 'stock', gelu: 'addon-kernel' });
      expect(layerFormRuns('attention', 'addon-kernel', 'tensorflow')).toBe(false);
      const x = tf.zeros([2 * 3, 4]) as tf.Tensor2D;
      const w = tf.eye(4) as tf.Tensor2D;
      const b = tf.zeros([4]) as tf.Tensor1D;
      const weights = { query: w, key: w, value: w, output: w, queryBias: b, keyBias: b, valueBias: b, outputBias: b };
      const { output } = selfAttention(x, weights, { batch: 2, tokens: 3, heads: 2, scale: 1 });
      expect(Array.from(output.dataSync())).toEqual(new Array(24).fill(0));
      tf.dispose([x, w, b, output]);
    } finally {
      saved.forEach((config, i) => {
        if (tf.getKernel(kernels[i] as string, 'tensorflow') === undefined) tf.registerKernel(config);
      });
    }
    expect(layerForms()).toMatchObject({ attention: 'addon-kernel', biasAdd: 'addon-kernel' });
  });

  it('refuse bad shapes, saying what they expected', () => {
    const call =
      (kernel: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}) =>
      () =>
        tf.tidy(() => run(kernel, inputs, attrs));
    expect(call(ADDON_LAYER_KERNELS.swapAxes, { x: tf.zeros([2, 3, 4]) })).toThrowError(
      /Mup2SwapAxes: x must have rank 4/,
    );
    expect(call(ADDON_LAYER_KERNELS.biasAdd, { x: tf.zeros([2, 3]), bias: tf.zeros([2]) })).toThrowError(
      /Mup2BiasAdd: bias must be a vector of x's last axis/,
    );
    expect(
      call(ADDON_LAYER_KERNELS.softmaxGrad, { dy: tf.zeros([2, 3]), y: tf.zeros([3, 2]) }, { scale: 1 }),
    ).toThrowError(/Mup2SoftmaxGrad: dy and y must have one shape/);
    expect(call(ADDON_LAYER_KERNELS.softmax, { x: tf.zeros([2, 0]) }, { scale: 1 })).toThrowError(
      /at least one entry on its last axis/,
    );
  });
});
