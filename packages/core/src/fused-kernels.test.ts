import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  addScaled,
  allFiniteTensors,
  FUSED_KERNELS,
  hasFusedKernel,
  innerProduct,
  momentumStep,
  sumOfSquares,
} from './fused-kernels.js';
import { muSgd } from './mu-sgd.js';

// Without a fused kernel registered (core's tests load no backend extras), the helpers run
// TF.js's composition; a float64 loop is the reference. The kernels themselves, on the backend
// that has them, are tested where they are registered (apps/model-zoo, fused-kernels.test.ts).

const values = (length: number, phase: number) => Array.from({ length }, (_, i) => Math.sin(0.37 * i + phase) * 3);

describe(`fused-kernel helpers without a fused kernel on ${tf.getBackend()}`, () => {
  it('has none registered here', () => {
    expect(hasFusedKernel(FUSED_KERNELS.momentumStep)).toBe(false);
    expect(hasFusedKernel(FUSED_KERNELS.checkedMomentumStep)).toBe(false);
    expect(hasFusedKernel(FUSED_KERNELS.sumOfSquares)).toBe(false);
    expect(hasFusedKernel(FUSED_KERNELS.allFinite)).toBe(false);
    expect(hasFusedKernel(FUSED_KERNELS.addScaled)).toBe(false);
    expect(hasFusedKernel(FUSED_KERNELS.innerProduct)).toBe(false);
  });

  it('addScaled equals w + s·d in float64', () => {
    const w = values(77, 0).map(Math.fround);
    const d = values(77, 1).map(Math.fround);
    const before = tf.memory().numTensors;
    const [wt, dt, s] = [tf.tensor1d(w), tf.tensor1d(d), tf.scalar(0.25)];
    const moved = addScaled(wt, dt, s);
    Array.from(moved.dataSync()).forEach((value, i) =>
      expect(value).toBeCloseTo((w[i] as number) + 0.25 * (d[i] as number), 5),
    );
    tf.dispose([wt, dt, s, moved]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('addScaled refuses operands it would broadcast, naming their shapes, and leaves no tensor', () => {
    const [w, d, row, s, vector] = [tf.zeros([3, 4]), tf.zeros([3, 4]), tf.zeros([4]), tf.scalar(2), tf.ones([1])];
    const before = tf.memory().numTensors;
    expect(() => addScaled(w, row, s)).toThrow(/w \[3,4\], d \[4\]/);
    expect(() => addScaled(w, d, vector as unknown as tf.Scalar)).toThrow(/s \[1\]/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([w, d, row, s, vector]);
  });

  it('allFiniteTensors is false exactly when some tensor holds a NaN or ±Infinity', () => {
    const before = tf.memory().numTensors;
    const tensors = [tf.tensor1d(values(301, 0)), tf.tensor2d(values(12, 1), [3, 4])];
    expect(allFiniteTensors(tensors)).toBe(true);
    expect(allFiniteTensors([])).toBe(true);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const poisoned = tf.tensor2d([...values(11, 1), bad], [3, 4]);
      expect(allFiniteTensors([tensors[0] as tf.Tensor, poisoned]), String(bad)).toBe(false);
      poisoned.dispose();
    }
    tf.dispose(tensors);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('sumOfSquares equals Σ x² in float64', () => {
    const x = values(3001, 0.5);
    const expected = x.reduce((total, value) => total + Math.fround(value) ** 2, 0);
    const before = tf.memory().numTensors;
    const input = tf.tensor1d(x);
    const result = sumOfSquares(input);
    expect(Math.abs((result.dataSync()[0] as number) - expected) / expected).toBeLessThan(1e-6);
    tf.dispose([input, result]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('innerProduct equals Σ x·y in float64, and refuses operands of two shapes, naming them', () => {
    const x = values(3000, 0.5).map(Math.fround);
    const y = values(3000, 2).map(Math.fround);
    const expected = x.reduce((total, value, i) => total + value * (y[i] as number), 0);
    const norms = Math.hypot(...x) * Math.hypot(...y);
    const before = tf.memory().numTensors;
    const [xt, yt, row] = [tf.tensor2d(x, [60, 50]), tf.tensor2d(y, [60, 50]), tf.zeros([50])];
    const result = innerProduct(xt, yt);
    // Relative to ‖x‖‖y‖, the scale of a float32 sum's error (Σ x·y itself may be near 0).
    expect(Math.abs((result.dataSync()[0] as number) - expected) / norms).toBeLessThan(1e-6);
    expect(() => innerProduct(xt, row)).toThrow(/x \[60,50\], y \[50\]/);
    tf.dispose([xt, yt, row, result]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('momentumStep equals [w − lr·(mu·v + g), mu·v + g] in float64', () => {
    const w = values(64, 0).map(Math.fround);
    const v = values(64, 1).map(Math.fround);
    const g = values(64, 2).map(Math.fround);
    const before = tf.memory().numTensors;
    const tensors = [w, v, g].map((list) => tf.tensor2d(list, [8, 8])) as [tf.Tensor, tf.Tensor, tf.Tensor];
    const [next, velocity] = momentumStep(...tensors, 0.3, 0.9);
    const expectedVelocity = v.map((value, i) => 0.9 * value + (g[i] as number));
    const expectedNext = w.map((value, i) => value - 0.3 * (expectedVelocity[i] as number));
    Array.from(velocity.dataSync()).forEach((value, i) => expect(value).toBeCloseTo(expectedVelocity[i] as number, 5));
    Array.from(next.dataSync()).forEach((value, i) => expect(value).toBeCloseTo(expectedNext[i] as number, 5));
    tf.dispose([...tensors, next, velocity]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('muSgd routes its heavy-ball step to a registered fused kernel', () => {
  const backend = tf.getBackend();
  const sentinel = 'fixture momentum kernel called';
  afterEach(() => {
    if (tf.getKernel(FUSED_KERNELS.momentumStep, backend) !== undefined) {
      tf.unregisterKernel(FUSED_KERNELS.momentumStep, backend);
    }
  });

  function stepTwice(options: { nesterov?: boolean; weightDecay?: number }): unknown {
    const variable = tf.variable(tf.tensor1d([1, 2, 3]));
    const optimizer = muSgd(0.1, undefined, { momentum: 0.9, ...options });
    const step = () => optimizer.applyGradients({ [variable.name]: tf.tensor1d([0.5, -0.5, 1]) });
    try {
      step(); // starts the momentum buffer at the first gradient, as PyTorch does
      tf.registerKernel({
        kernelName: FUSED_KERNELS.momentumStep,
        backendName: backend,
        kernelFunc: () => {
          throw new Error(sentinel);
        },
      });
      step();
      return undefined;
    } catch (error) {
      return error;
    } finally {
      optimizer.dispose();
      variable.dispose();
    }
  }

  it('from the second step on (plain momentum, and with weight decay folded into the gradient)', () => {
    expect((stepTwice({}) as Error).message).toBe(sentinel);
    expect((stepTwice({ weightDecay: 0.01 }) as Error).message).toBe(sentinel);
  });

  it('but not with Nesterov momentum, which it does not compute', () => {
    expect(stepTwice({ nesterov: true })).toBeUndefined();
  });
});
