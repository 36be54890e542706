import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createModel } from '../models/create-model.js';
import { ADDON_LAYER_KERNELS } from './addon-kernels.js';
import { gelu } from './gelu.js';
import { layerForms, withLayerForms } from './layer-forms.js';
import { LayerNorm } from './layer-norm.js';
import { relu } from './relu.js';
import { addonFormRuns, registerTensorflowKernels } from './tensorflow-kernels.js';
import { maxAbsDifference, testValues } from './test-values.js';

// The GELU, LayerNorm, ReLU and gain kernels of mup2's addon (apps/native/src/fused-ops/layer-kernels.cc),
// which `pnpm native:install` builds, against float64 loops and finite differences, at sizes that
// run the vectorised loops and their remainders. gelu.test.ts, layer-norm.test.ts, relu.test.ts and
// scale.test.ts run their form-by-form checks on the 'addon-kernel' form too.

const onTensorflow = tf.getBackend() === 'tensorflow';

const A = 2 * Math.sqrt(2 / Math.PI);
const gelu64 = (x: number) => x / (1 + Math.exp(-A * x * (1 + 0.044715 * x * x)));
const geluSlope64 = (x: number) => {
  const gate = 1 / (1 + Math.exp(-A * x * (1 + 0.044715 * x * x)));
  return gate + x * gate * (1 - gate) * A * (1 + 3 * 0.044715 * x * x);
};

/** y = γ·x̂ + β per row of `features`, in float64. */
function layerNorm64(x: number[], gamma: number[], beta: number[], epsilon: number): number[] {
  const features = gamma.length;
  const y: number[] = [];
  for (let start = 0; start < x.length; start += features) {
    const row = x.slice(start, start + features);
    const mean = row.reduce((a, b) => a + b, 0) / features;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / features;
    row.forEach((v, j) =>
      y.push(((v - mean) / Math.sqrt(variance + epsilon)) * (gamma[j] as number) + (beta[j] as number)),
    );
  }
  return y;
}

/** f(x) and the gradient of Σ f(x)·u, elementwise f on vectors, as plain arrays. */
function valueAndGradient(f: (t: tf.Tensor) => tf.Tensor, x: number[], upstream: number[]): [number[], number[]] {
  return tf.tidy(() => {
    const input = tf.tensor1d(x);
    const weights = tf.tensor1d(upstream);
    const [gradient] = tf.grads((t: tf.Tensor) => tf.sum(tf.mul(f(t), weights)))([input]);
    return [Array.from(f(input).dataSync()), Array.from((gradient as tf.Tensor).dataSync())];
  });
}

const dot = (a: number[], b: number[]) => a.reduce((total, v, i) => total + v * (b[i] as number), 0);

describe.skipIf(!onTensorflow)("mup2's addon layer kernels on tensorflow", () => {
  beforeAll(() => registerTensorflowKernels());

  it('are registered and chosen: native:install built them and the zoo loaded them', () => {
    const addonForms = [
      addonFormRuns('gelu'),
      addonFormRuns('layerNorm'),
      addonFormRuns('relu'),
      addonFormRuns('scale'),
    ];
    expect(addonForms).toEqual([true, true, true, true]);
    expect(layerForms()).toMatchObject({
      gelu: 'addon-kernel',
      layerNorm: 'addon-kernel',
      relu: 'addon-kernel',
      scale: 'addon-kernel',
    });
  });

  it('GELU and its gradient equal the float64 formula on 200,003 entries; NaN and ±∞ go through as in x·σ(v)', () => {
    const n = 200_003;
    const x = testValues(n, 2, 6);
    const upstream = testValues(n, 5, 1);
    const before = tf.memory().numTensors;
    const [y, dx] = valueAndGradient(gelu, x, upstream);
    expect(maxAbsDifference(y, x.map(gelu64))).toBeLessThan(1e-5);
    const expectedDx = x.map((v, i) => (upstream[i] as number) * geluSlope64(v));
    expect(maxAbsDifference(dx, expectedDx)).toBeLessThan(1e-5);
    expect(tf.memory().numTensors).toBe(before);

    const special = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 100, -100, 0];
    const composed = tf.tidy(() => {
      const t = tf.tensor1d(special);
      return tf.mul(t, tf.sigmoid(tf.mul(t, tf.add(tf.mul(tf.square(t), 0.044715 * A), A)))).arraySync();
    });
    const fused = tf.tidy(() => gelu(tf.tensor1d(special)).arraySync());
    expect(fused).toEqual(composed);
  });

  it('ReLU and its gradient are max(x, 0) and dy·[x > 0] on 200,003 entries, NaN and ±∞ as TensorFlow gives them', () => {
    const n = 200_003;
    // float32 values, so that the exact answers are exactly representable.
    const x = testValues(n, 3, 4).map(Math.fround);
    const upstream = testValues(n, 7, 1).map(Math.fround);
    const before = tf.memory().numTensors;
    const [y, dx] = valueAndGradient(relu, x, upstream);
    expect(tf.memory().numTensors).toBe(before);
    expect(
      maxAbsDifference(
        y,
        x.map((v) => Math.max(v, 0)),
      ),
    ).toBe(0);
    expect(
      maxAbsDifference(
        dx,
        x.map((v, i) => (v > 0 ? (upstream[i] as number) : 0)),
      ),
    ).toBe(0);

    // Against TensorFlow's own Relu and ReluGrad kernels (the 'relu-grad-kernel' form), NaN · 0 included.
    const special = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, 3, -3];
    const specialDy = [1, Number.NaN, Number.NaN, 2, Number.POSITIVE_INFINITY, 1];
    const both = (form: 'addon-kernel' | 'relu-grad-kernel') =>
      withLayerForms({ relu: form }, () => valueAndGradient(relu, special, specialDy));
    expect(both('addon-kernel')).toEqual(both('relu-grad-kernel'));
  });

  it('LayerNorm and its gradients equal float64 ones on [2, 2049, 67] (rows over the leading axes)', () => {
    const [batch, rows, features] = [2, 2049, 67];
    const count = batch * rows * features;
    const x = testValues(count, 1, 4).map((v, i) => v + (i % 7) - 3);
    const upstream = testValues(count, 3, 1);
    const gamma = testValues(features, 4, 2);
    const beta = testValues(features, 6, 1);
    const norm = new LayerNorm('addon_ln', features, { epsilon: 1e-5 });
    norm.gamma.assign(tf.tensor1d(gamma));
    norm.beta.assign(tf.tensor1d(beta));
    const before = tf.memory().numTensors;
    const [y, dx, dgamma, dbeta] = tf.tidy(() => {
      const input = tf.tensor3d(x, [batch, rows, features]);
      const weights = tf.tensor3d(upstream, [batch, rows, features]);
      const output = norm.apply(input);
      expect(output.shape).toEqual([batch, rows, features]);
      const grads = tf.grads((t: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const rowsOut = tf
          .engine()
          .runKernel(ADDON_LAYER_KERNELS.layerNorm, { x: t, gamma: g, beta: b }, { epsilon: 1e-5 }) as tf.Tensor[];
        return tf.sum(tf.mul(rowsOut[0] as tf.Tensor, weights));
      })([input, norm.gamma, norm.beta]);
      return [output.dataSync(), ...grads.map((g) => g.dataSync())];
    }) as Float32Array[];
    expect(tf.memory().numTensors).toBe(before);
    expect(maxAbsDifference(y as Float32Array, layerNorm64(x, gamma, beta, 1e-5))).toBeLessThan(2e-5);

    // Float64 gradients of L = Σ y·u: dγ_j = Σ u·x̂, dβ_j = Σ u, dx by the closed form per row.
    const expectedDx: number[] = [];
    const expectedDgamma = new Array<number>(features).fill(0);
    const expectedDbeta = new Array<number>(features).fill(0);
    for (let start = 0; start < count; start += features) {
      const row = x.slice(start, start + features);
      const u = upstream.slice(start, start + features);
      const mean = row.reduce((a, b) => a + b, 0) / features;
      const inverse = 1 / Math.sqrt(row.reduce((a, b) => a + (b - mean) ** 2, 0) / features + 1e-5);
      const xHat = row.map((v) => (v - mean) * inverse);
      const g = u.map((v, j) => v * (gamma[j] as number));
      const gMean = g.reduce((a, b) => a + b, 0) / features;
      const gxMean = dot(g, xHat) / features;
      xHat.forEach((h, j) => {
        expectedDx.push(inverse * ((g[j] as number) - gMean - h * gxMean));
        expectedDgamma[j] = (expectedDgamma[j] as number) + (u[j] as number) * h;
        expectedDbeta[j] = (expectedDbeta[j] as number) + (u[j] as number);
      });
    }
    expect(maxAbsDifference(dx as Float32Array, expectedDx)).toBeLessThan(2e-5);
    expect(maxAbsDifference(dgamma as Float32Array, expectedDgamma)).toBeLessThan(2e-3); // sums of 4,098 rows
    expect(maxAbsDifference(dbeta as Float32Array, expectedDbeta)).toBeLessThan(2e-3);
    norm.dispose();
  });

  it("LayerNorm's x gradient matches a central finite difference of the float64 layer", () => {
    const features = 5;
    const x = testValues(3 * features, 8, 2);
    const upstream = testValues(3 * features, 9, 1);
    const gamma = [1, -0.5, 2, 0.75, 1.25];
    const beta = [0, 0.5, -1, 0, 0.25];
    const dx = tf.tidy(() => {
      const weights = tf.tensor2d(upstream, [3, features]);
      const [gx] = tf.grads((t: tf.Tensor) => {
        const [y] = tf
          .engine()
          .runKernel(
            ADDON_LAYER_KERNELS.layerNorm,
            { x: t, gamma: tf.tensor1d(gamma), beta: tf.tensor1d(beta) },
            { epsilon: 1e-3 },
          ) as tf.Tensor[];
        return tf.sum(tf.mul(y as tf.Tensor, weights));
      })([tf.tensor2d(x, [3, features])]);
      return (gx as tf.Tensor).dataSync();
    });
    const loss = (values: number[]) => dot(layerNorm64(values, gamma, beta, 1e-3), upstream);
    const step = 1e-6;
    const expected = x.map((_, i) => {
      const up = x.slice();
      const down = x.slice();
      up[i] = (up[i] as number) + step;
      down[i] = (down[i] as number) - step;
      return (loss(up) - loss(down)) / (2 * step);
    });
    expect(maxAbsDifference(dx, expected)).toBeLessThan(2e-5);
  });

  it('refuse bad shapes, saying what they expected', () => {
    const run =
      (kernel: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}) =>
      () =>
        tf.tidy(() => tf.engine().runKernel(kernel, inputs, attrs));
    const ln = (x: tf.Tensor, gamma: tf.Tensor) =>
      run(ADDON_LAYER_KERNELS.layerNorm, { x, gamma, beta: gamma }, { epsilon: 1e-6 });
    expect(ln(tf.zeros([4, 3]), tf.zeros([4]))).toThrowError(/gamma and beta must be vectors of x's feature count/);
    expect(ln(tf.zeros([4, 0]), tf.zeros([0]))).toThrowError(/at least one feature/);
    expect(ln(tf.scalar(1), tf.zeros([1]))).toThrowError(/rank >= 1/);
    expect(run('Mup2GeluGrad', { dy: tf.zeros([2, 3]), x: tf.zeros([3, 2]) })).toThrowError(
      /dy and x must have one shape/,
    );
    expect(run(ADDON_LAYER_KERNELS.reluBackward, { dy: tf.zeros([2, 3]), x: tf.zeros([6]) })).toThrowError(
      /Mup2ReluBackward: dy and x must have one shape/,
    );
    const scaleGrad = (dy: tf.Tensor, x: tf.Tensor, gamma: tf.Tensor) =>
      run(ADDON_LAYER_KERNELS.scaleGrad, { dy, x, gamma });
    expect(scaleGrad(tf.zeros([2, 3]), tf.zeros([3, 2]), tf.zeros([2]))).toThrowError(/dy and x must have one shape/);
    expect(scaleGrad(tf.zeros([2, 3]), tf.zeros([2, 3]), tf.zeros([2]))).toThrowError(
      /Mup2ScaleGrad: gamma must be a vector of x's feature count/,
    );
  });

  it('run a ViT training step with the same loss and gradients as the closed forms, leaving no tensor', async () => {
    const model = createModel({
      model: 'vit',
      widthMult: 1,
      parameterization: 'mup',
      imageShape: [32, 32, 3],
      classes: 10,
      seed: 4,
    });
    // µP's zero readout would make every gradient below the readout zero; a nonzero one tests them.
    const readout = model.trainableVariables.find((v) => v.name.includes('readout') && v.shape.length === 2);
    readout?.assign(tf.randomNormal(readout.shape, 0, 0.1, 'float32', 5));
    const x = tf.randomNormal([8, 32, 32, 3], 0, 1, 'float32', 6);
    const y = tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32');
    const gradientsOf = () =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => model.loss(x, y, { training: true }) as tf.Scalar);
        return [value.dataSync()[0] as number, ...Object.values(grads).map((g) => Array.from(g.dataSync()))] as const;
      });
    const profile = await tf.profile(() => {
      gradientsOf();
    });
    expect(profile.kernelNames).toEqual(
      expect.arrayContaining([
        ...['Mup2LayerNorm', 'Mup2LayerNormGrad', 'Mup2Gelu', 'Mup2GeluGrad'],
        ...['Mup2Softmax', 'Mup2SoftmaxGrad', 'Mup2SwapAxes', 'Mup2BiasAdd'],
      ]),
    );
    const before = tf.memory().numTensors;
    const [lossFused, ...fused] = gradientsOf();
    expect(tf.memory().numTensors).toBe(before);
    const [lossComposed, ...composed] = withLayerForms(
      { gelu: 'closed-form', layerNorm: 'closed-form', attention: 'batched-matmul', biasAdd: 'stock' },
      gradientsOf,
    );
    expect(Math.abs(lossFused - lossComposed)).toBeLessThan(1e-5);
    fused.forEach((gradient, i) => {
      const reference = composed[i] as number[];
      const scale = Math.max(1e-6, ...reference.map(Math.abs));
      expect(maxAbsDifference(gradient, reference) / scale, `gradient ${i}`).toBeLessThan(1e-3);
    });
    tf.dispose([x, y]);
    model.dispose();
  });
});
