import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { conv2d, extractPatches } from './conv2d.js';

const testBackend = tf.getBackend();

afterEach(async () => {
  await tf.setBackend(testBackend);
});

/** Deterministic values that differ across positions and channels. */
function values(count: number, seed: number): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => Math.sin(seed * 7.13 + i * 1.71) + 0.3 * Math.cos(i * 0.37));
}

interface Case {
  readonly x: [number, number, number, number];
  readonly kernel: [number, number, number, number];
  readonly stride: number;
  readonly padding: 'same' | 'valid';
}

const cases: Case[] = [
  { x: [2, 6, 6, 3], kernel: [3, 3, 3, 4], stride: 1, padding: 'same' },
  { x: [2, 7, 6, 3], kernel: [3, 3, 3, 5], stride: 2, padding: 'same' },
  { x: [2, 8, 8, 4], kernel: [3, 3, 4, 3], stride: 2, padding: 'same' },
  { x: [2, 8, 8, 4], kernel: [1, 1, 4, 6], stride: 2, padding: 'same' },
  { x: [1, 7, 7, 2], kernel: [3, 2, 2, 3], stride: 2, padding: 'valid' },
];

/** Value and both gradients of sum(conv(x, kernel) ⊙ dy), as plain arrays. */
function valueAndGradients(convolve: (x: tf.Tensor4D, kernel: tf.Tensor4D) => tf.Tensor4D, testCase: Case) {
  return tf.tidy(() => {
    const x = tf.tensor4d(
      values(
        testCase.x.reduce((a, b) => a * b),
        1,
      ),
      testCase.x,
    );
    const kernel = tf.tensor4d(
      values(
        testCase.kernel.reduce((a, b) => a * b),
        2,
      ),
      testCase.kernel,
    );
    const y = convolve(x, kernel);
    const dy = tf.tensor(values(y.size, 3), y.shape);
    const [dx, dKernel] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(convolve(a as tf.Tensor4D, b as tf.Tensor4D), dy)),
    )([x, kernel]);
    return { shape: y.shape, y: y.arraySync(), dx: dx?.arraySync(), dKernel: dKernel?.arraySync() };
  });
}

function maxDifference(a: unknown, b: unknown): number {
  const flatA = [a].flat(Number.POSITIVE_INFINITY) as number[];
  const flatB = [b].flat(Number.POSITIVE_INFINITY) as number[];
  expect(flatA.length).toBe(flatB.length);
  return Math.max(...flatA.map((value, i) => Math.abs(value - (flatB[i] as number))));
}

describe('conv2d', () => {
  for (const testCase of cases) {
    const label = `${testCase.kernel[0]}×${testCase.kernel[1]} stride ${testCase.stride} ${testCase.padding} on [${testCase.x.join(', ')}]`;
    const stock = (x: tf.Tensor4D, kernel: tf.Tensor4D) => tf.conv2d(x, kernel, testCase.stride, testCase.padding);
    const ours = (x: tf.Tensor4D, kernel: tf.Tensor4D) =>
      conv2d(x, kernel, { stride: testCase.stride, padding: testCase.padding });

    // On wasm the gradients are @mup2/core's kernels, which conv2d registers (the test setup only calls tf.setBackend).
    it(`on the test backend equals tf.conv2d and both its gradients on cpu: ${label}`, async () => {
      await tf.setBackend('cpu');
      const expected = valueAndGradients(stock, testCase);
      await tf.setBackend(testBackend);
      const actual = valueAndGradients(ours, testCase);
      expect(actual.shape).toEqual(expected.shape);
      expect(maxDifference(actual.y, expected.y)).toBeLessThan(1e-4);
      expect(maxDifference(actual.dx, expected.dx)).toBeLessThan(1e-4);
      expect(maxDifference(actual.dKernel, expected.dKernel)).toBeLessThan(1e-4);
    });
  }

  it('im2col patches times the reshaped kernel is the convolution', () => {
    for (const testCase of cases) {
      const difference = tf.tidy(() => {
        const x = tf.tensor4d(
          values(
            testCase.x.reduce((a, b) => a * b),
            4,
          ),
          testCase.x,
        );
        const kernel = tf.tensor4d(
          values(
            testCase.kernel.reduce((a, b) => a * b),
            5,
          ),
          testCase.kernel,
        );
        const [kh, kw, cin, cout] = testCase.kernel;
        const options = { stride: testCase.stride, padding: testCase.padding };
        const patches = extractPatches(x, [kh, kw], options);
        const product = tf.matMul(patches, tf.reshape(kernel, [kh * kw * cin, cout]));
        const direct = conv2d(x, kernel, options);
        return tf.max(tf.abs(tf.sub(product, tf.reshape(direct, [-1, cout])))).dataSync()[0] as number;
      });
      expect(difference).toBeLessThan(1e-4);
    }
  });

  it('leaves no tensors behind in forward and backward passes', () => {
    const x = tf.randomNormal([2, 6, 6, 3]) as tf.Tensor4D;
    const kernel = tf.variable(tf.randomNormal([3, 3, 3, 4]));
    const before = tf.memory().numTensors;
    for (let step = 0; step < 3; step++) {
      const { value, grads } = tf.variableGrads(
        () => tf.sum(conv2d(x, kernel as tf.Tensor4D, { stride: 2 })) as tf.Scalar,
        [kernel],
      );
      value.dispose();
      tf.dispose(grads);
    }
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    kernel.dispose();
  });

  it('rejects a channel mismatch and a bad stride', () => {
    const x = tf.zeros([1, 4, 4, 2]) as tf.Tensor4D;
    expect(() => conv2d(x, tf.zeros([3, 3, 3, 1]) as tf.Tensor4D)).toThrow(/3/);
    expect(() => conv2d(x, tf.zeros([3, 3, 2, 1]) as tf.Tensor4D, { stride: 0 })).toThrow(/stride/);
  });
});
