import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { gelu } from './gelu.js';
import { LAYER_FORM_CANDIDATES, layerFormRuns, withLayerForms } from './layer-forms.js';
import { maxAbsDifference } from './test-values.js';

/** erf by its Maclaurin series in float64 (accurate to ~1e-9 on |x| ≤ 4). */
function erf64(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 80; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}
const geluTanh64 = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
const geluExact64 = (x: number) => 0.5 * x * (1 + erf64(x / Math.SQRT2));
const gelu64 = geluTanh64;

const points = Array.from({ length: 81 }, (_, i) => -4 + i * 0.1);

describe.each(
  LAYER_FORM_CANDIDATES.gelu.filter((form) => layerFormRuns('gelu', form, tf.getBackend())),
)('gelu, %s form', (form) => {
  const geluOf = <T extends tf.Tensor>(x: T): T => withLayerForms({ gelu: form }, () => gelu(x));

  it('equals the tanh form ½x(1 + tanh(√(2/π)(x + 0.044715x³))) computed in float64', () => {
    const actual = tf.tidy(() => geluOf(tf.tensor1d(points)).dataSync());
    expect(maxAbsDifference(actual, points.map(geluTanh64))).toBeLessThan(1e-5);
  });

  it('stays within 5e-4 of the exact x·Φ(x) = ½x(1 + erf(x/√2))', () => {
    const actual = tf.tidy(() => geluOf(tf.tensor1d(points)).dataSync());
    expect(maxAbsDifference(actual, points.map(geluExact64))).toBeLessThan(5e-4);
  });

  it('has the gradient of a central finite difference of the float64 formula', () => {
    const actual = tf.tidy(() =>
      tf
        .grad((x: tf.Tensor) => tf.sum(geluOf(x)))(tf.tensor1d(points))
        .dataSync(),
    );
    const step = 1e-5;
    const expected = points.map((x) => (gelu64(x + step) - gelu64(x - step)) / (2 * step));
    expect(maxAbsDifference(actual, expected)).toBeLessThan(1e-5);
  });

  it('passes upstream gradients through per element and keeps the shape', () => {
    const [value, gradient] = tf.tidy(() => {
      const x = tf.tensor2d([
        [0.5, -1],
        [2, 0],
      ]);
      const upstream = tf.tensor2d([
        [2, 3],
        [-1, 0.5],
      ]);
      const g = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(geluOf(input), upstream)))(x);
      return [geluOf(x).shape, g.arraySync() as number[][]];
    });
    expect(value).toEqual([2, 2]);
    const step = 1e-5;
    const slope = (x: number) => (gelu64(x + step) - gelu64(x - step)) / (2 * step);
    expect(
      maxAbsDifference((gradient as number[][]).flat(), [2 * slope(0.5), 3 * slope(-1), -slope(2), 0.5 * slope(0)]),
    ).toBeLessThan(1e-5);
  });
});
