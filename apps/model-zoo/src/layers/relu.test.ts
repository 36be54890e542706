import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { LAYER_FORM_CANDIDATES, layerFormRuns, withLayerForms } from './layer-forms.js';
import { relu } from './relu.js';
import { maxAbsDifference, testValues } from './test-values.js';

const forms = LAYER_FORM_CANDIDATES.relu.filter((form) => layerFormRuns('relu', form, tf.getBackend()));

describe.each(forms)('relu, %s gradient', (form) => {
  const x = [...testValues(12, 7), 0, -0.5, 2];
  const upstream = testValues(x.length, 8);

  it('is max(x, 0), with gradient dy where x > 0 and 0 elsewhere (the subgradient 0 at x = 0)', () => {
    const [value, gradient] = withLayerForms({ relu: form }, () =>
      tf.tidy(() => {
        const input = tf.tensor1d(x);
        const dy = tf.tensor1d(upstream);
        const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(relu(a), dy)))(input);
        return [Array.from(relu(input).dataSync()), Array.from(g.dataSync())];
      }),
    );
    expect(
      maxAbsDifference(
        value as number[],
        x.map((v) => Math.max(v, 0)),
      ),
    ).toBeLessThan(1e-6);
    expect(
      maxAbsDifference(
        gradient as number[],
        x.map((v, i) => (v > 0 ? (upstream[i] as number) : 0)),
      ),
    ).toBeLessThan(1e-7);
  });

  it('passes a NaN upstream gradient through', () => {
    const gradient = withLayerForms({ relu: form }, () =>
      tf.tidy(() =>
        Array.from(
          tf
            .grad((a: tf.Tensor) => tf.sum(tf.mul(relu(a), Number.NaN)))(tf.tensor1d([1, -1]))
            .dataSync(),
        ),
      ),
    );
    expect(Number.isNaN(gradient[0])).toBe(true);
  });
});
