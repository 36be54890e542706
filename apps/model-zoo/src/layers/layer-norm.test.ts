import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { LAYER_FORM_CANDIDATES, layerFormRuns, withLayerForms } from './layer-forms.js';
import { LayerNorm } from './layer-norm.js';
import { maxAbsDifference, testValues } from './test-values.js';

const testBackend = tf.getBackend();
afterEach(async () => {
  await tf.setBackend(testBackend);
});

const forms = LAYER_FORM_CANDIDATES.layerNorm.filter((form) => layerFormRuns('layerNorm', form, testBackend));

describe.each(forms)('LayerNorm, %s form', (form) => {
  const rows = 5;
  const features = 6;
  const gamma = [1, 2, 0.5, -1, 1.5, 0.25];
  const beta = [0, 1, -1, 0.25, 0, 2];

  it('normalises each row (float64 formula), then applies γ and β', () => {
    const norm = new LayerNorm('ln_forward', features);
    norm.gamma.assign(tf.tensor1d(gamma));
    norm.beta.assign(tf.tensor1d(beta));
    const values = testValues(rows * features, 1, 3);
    const actual = withLayerForms({ layerNorm: form }, () =>
      tf.tidy(() => Array.from(norm.apply(tf.tensor2d(values, [rows, features])).dataSync())),
    );
    const expected: number[] = [];
    for (let r = 0; r < rows; r++) {
      const row = values.slice(r * features, (r + 1) * features);
      const mean = row.reduce((a, b) => a + b, 0) / features;
      const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / features;
      row.forEach((v, c) =>
        expected.push(((v - mean) / Math.sqrt(variance + norm.epsilon)) * (gamma[c] as number) + (beta[c] as number)),
      );
    }
    expect(maxAbsDifference(actual, expected)).toBeLessThan(1e-4);
    norm.dispose();
  });

  it('has the gradients of the composed formula (stock autodiff on cpu) for x, γ and β, on 3-D input', async () => {
    const shape: [number, number, number] = [2, 3, features];
    const values = testValues(2 * 3 * features, 2, 2);
    const upstream = testValues(2 * 3 * features, 3);
    const run = (useLayer: boolean) =>
      tf.tidy(() => {
        const norm = new LayerNorm(`ln_grad_${useLayer}`, features);
        norm.gamma.assign(tf.tensor1d(gamma));
        norm.beta.assign(tf.tensor1d(beta));
        const x = tf.variable(tf.tensor3d(values, shape), true, `ln_grad_x_${useLayer}`);
        const dy = tf.tensor3d(upstream, shape);
        const forward = () => {
          if (useLayer) return withLayerForms({ layerNorm: form }, () => norm.apply(x));
          const { mean, variance } = tf.moments(x, [2], true);
          return tf.add(
            tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, norm.epsilon))), norm.gamma),
            norm.beta,
          );
        };
        const variables = [x, norm.gamma, norm.beta];
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(forward(), dy)) as tf.Scalar, variables);
        value.dispose();
        const gradients = variables.map((variable) => Array.from((grads[variable.name] as tf.Tensor).dataSync()));
        norm.dispose();
        x.dispose();
        return gradients;
      });
    await tf.setBackend('cpu');
    const expected = run(false);
    await tf.setBackend(testBackend);
    const actual = run(true);
    for (let i = 0; i < 3; i++)
      expect(maxAbsDifference(actual[i] as number[], expected[i] as number[])).toBeLessThan(1e-4);
  });

  it('leaves no tensors behind in forward and backward passes', () => {
    const norm = new LayerNorm(`ln_leak_${form}`, features);
    const x = tf.tensor2d(testValues(rows * features, 4), [rows, features]);
    const before = tf.memory().numTensors;
    for (let step = 0; step < 3; step++) {
      withLayerForms({ layerNorm: form }, () => {
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(norm.apply(x))) as tf.Scalar, norm.variables);
        value.dispose();
        tf.dispose(grads);
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    norm.dispose();
  });
});
