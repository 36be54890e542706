import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { biasAdd } from './bias-add.js';
import { columnSums } from './column-sums.js';
import { fastBatchMatMul } from './fast-batch-matmul.js';
import { fastMatMul } from './fast-matmul.js';
import { LAYER_FORM_CANDIDATES, layerFormRuns, withLayerForms } from './layer-forms.js';
import { maxAbsDifference, testValues } from './test-values.js';

/** Value and both gradients of sum(multiply(a, b) ⊙ dy) for a of `left`, b of `right`. */
function productAndGradients(
  multiply: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor,
  left: number[],
  right: number[],
): number[][] {
  return tf.tidy(() => {
    const a = tf.tensor(
      testValues(
        left.reduce((x, y) => x * y),
        1,
      ),
      left,
    );
    const b = tf.tensor(
      testValues(
        right.reduce((x, y) => x * y),
        2,
      ),
      right,
    );
    const value = multiply(a, b);
    const dy = tf.tensor(testValues(value.size, 3), value.shape);
    const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(multiply(x, y), dy)))([a, b]);
    return [value, ...grads].map((t) => Array.from(t.dataSync()));
  });
}

describe.each(
  LAYER_FORM_CANDIDATES.matMul.filter((form) => layerFormRuns('matMul', form, tf.getBackend())),
)('fastMatMul and fastBatchMatMul, %s gradients', (form) => {
  for (const [label, multiply, left, right] of [
    ['fastMatMul', (a: tf.Tensor, b: tf.Tensor) => fastMatMul(a as tf.Tensor2D, b as tf.Tensor2D), [3, 4], [4, 5]],
    [
      'fastBatchMatMul',
      (a: tf.Tensor, b: tf.Tensor) => fastBatchMatMul(a as tf.Tensor3D, b as tf.Tensor3D),
      [2, 3, 4],
      [2, 4, 5],
    ],
  ] as const) {
    it(`${label} has the values and gradients of tf.matMul`, () => {
      const ours = withLayerForms({ matMul: form }, () => productAndGradients(multiply, [...left], [...right]));
      const stock = productAndGradients((a, b) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D), [...left], [...right]);
      ours.forEach((values, i) => expect(maxAbsDifference(values, stock[i] as number[])).toBeLessThan(1e-5));
    });
  }
});

describe.each(
  LAYER_FORM_CANDIDATES.columnSums.filter((form) => layerFormRuns('columnSums', form, tf.getBackend())),
)('columnSums, %s form', (form) => {
  it('sums each column (float64)', () => {
    const rows = testValues(7 * 3, 6);
    const actual = withLayerForms({ columnSums: form }, () =>
      tf.tidy(() => Array.from(columnSums(tf.tensor2d(rows, [7, 3])).dataSync())),
    );
    const sums = [0, 1, 2].map((c) => rows.filter((_, i) => i % 3 === c).reduce((a, b) => a + b, 0));
    expect(maxAbsDifference(actual, sums)).toBeLessThan(1e-5);
  });
});

describe('biasAdd, columnSums', () => {
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
