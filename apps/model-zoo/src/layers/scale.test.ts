import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { LAYER_FORM_CANDIDATES, layerFormRuns, withLayerForms } from './layer-forms.js';
import { scaleFeatures } from './scale.js';
import { maxAbsDifference, testValues } from './test-values.js';

const forms = LAYER_FORM_CANDIDATES.scale.filter((form) => layerFormRuns('scale', form, tf.getBackend()));

describe.each(forms)('scaleFeatures, %s form', (form) => {
  it.each([
    [[37, 1029]], // rows × features, features past any vector width
    [[2, 3, 5]], // rows over the leading axes
  ])('on %j is x ⊙ γ, with dx = dy ⊙ γ and dγ = Σ over rows of dy ⊙ x in float64', (shape) => {
    const features = shape[shape.length - 1] as number;
    const count = shape.reduce((a, b) => a * b, 1);
    const x = testValues(count, 1, 3).map(Math.fround);
    const gamma = testValues(features, 2, 2).map(Math.fround);
    const upstream = testValues(count, 3, 1).map(Math.fround);
    const before = tf.memory().numTensors;
    const [y, dx, dgamma] = withLayerForms({ scale: form }, () =>
      tf.tidy(() => {
        const input = tf.tensor(x, shape);
        const gain = tf.tensor1d(gamma);
        const weights = tf.tensor(upstream, shape);
        const grads = tf.grads((a: tf.Tensor, g: tf.Tensor) =>
          tf.sum(tf.mul(scaleFeatures(a, g as tf.Tensor1D), weights)),
        )([input, gain]);
        return [scaleFeatures(input, gain).dataSync(), ...grads.map((g) => g.dataSync())];
      }),
    ) as Float32Array[];
    expect(tf.memory().numTensors).toBe(before);
    const feature = (i: number) => gamma[i % features] as number;
    expect(
      maxAbsDifference(
        y as Float32Array,
        x.map((v, i) => v * feature(i)),
      ),
    ).toBeLessThan(1e-6);
    expect(
      maxAbsDifference(
        dx as Float32Array,
        upstream.map((u, i) => u * feature(i)),
      ),
    ).toBeLessThan(1e-6);
    const expectedDgamma = new Array<number>(features).fill(0);
    x.forEach((v, i) => {
      expectedDgamma[i % features] = (expectedDgamma[i % features] as number) + v * (upstream[i] as number);
    });
    expect(maxAbsDifference(dgamma as Float32Array, expectedDgamma)).toBeLessThan(2e-5);
  });

  it('refuses a gain whose length is not the feature count, naming both', () => {
    expect(() =>
      withLayerForms({ scale: form }, () => tf.tidy(() => scaleFeatures(tf.zeros([2, 3]), tf.ones([4])))),
    ).toThrowError(/x has 3 features \(last axis\) but the gain has 4/);
  });
});
