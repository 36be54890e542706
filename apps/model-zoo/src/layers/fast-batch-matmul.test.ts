import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { biasAdd } from './bias-add.js';
import { columnSums } from './column-sums.js';
import { fastBatchMatMul } from './fast-batch-matmul.js';
import { maxAbsDifference, testValues } from './test-values.js';

describe('fastBatchMatMul, biasAdd, columnSums', () => {
  it('fastBatchMatMul has the values and gradients of tf.matMul', () => {
    const [ours, stock] = [fastBatchMatMul, (a: tf.Tensor3D, b: tf.Tensor3D) => tf.matMul(a, b)].map((multiply) =>
      tf.tidy(() => {
        const a = tf.tensor3d(testValues(2 * 3 * 4, 1), [2, 3, 4]);
        const b = tf.tensor3d(testValues(2 * 4 * 5, 2), [2, 4, 5]);
        const dy = tf.tensor3d(testValues(2 * 3 * 5, 3), [2, 3, 5]);
        const value = multiply(a, b);
        const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
          tf.sum(tf.mul(multiply(x as tf.Tensor3D, y as tf.Tensor3D), dy)),
        )([a, b]);
        return [value, ...grads].map((t) => Array.from(t.dataSync()));
      }),
    );
    ours?.forEach((values, i) => expect(maxAbsDifference(values, stock?.[i] as number[])).toBeLessThan(1e-5));
  });

  it('biasAdd adds a row vector; its bias gradient is the column sums of dy (float64)', () => {
    const x = testValues(4 * 3, 4);
    const bias = [1, -2, 0.5];
    const dy = testValues(4 * 3, 5);
    const [value, dx, dBias] = tf.tidy(() => {
      const upstream = tf.tensor2d(dy, [4, 3]);
      const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(biasAdd(a as tf.Tensor2D, b as tf.Tensor1D), upstream));
      const grads = tf.grads(f)([tf.tensor2d(x, [4, 3]), tf.tensor1d(bias)]);
      return [biasAdd(tf.tensor2d(x, [4, 3]), tf.tensor1d(bias)), ...grads].map((t) => Array.from(t.dataSync()));
    });
    expect(
      maxAbsDifference(
        value as number[],
        x.map((v, i) => v + (bias[i % 3] as number)),
      ),
    ).toBeLessThan(1e-6);
    expect(maxAbsDifference(dx as number[], dy)).toBeLessThan(1e-6);
    const sums = [0, 1, 2].map((c) => dy.filter((_, i) => i % 3 === c).reduce((a, b) => a + b, 0));
    expect(maxAbsDifference(dBias as number[], sums)).toBeLessThan(1e-5);
    expect(
      maxAbsDifference(
        tf.tidy(() => columnSums(tf.tensor2d(dy, [4, 3])).dataSync()),
        sums,
      ),
    ).toBeLessThan(1e-5);
  });
});
