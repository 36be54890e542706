import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { BatchNorm } from './batch-norm.js';
import { maxAbsDifference, testValues } from './test-values.js';

const testBackend = tf.getBackend();
afterEach(async () => {
  await tf.setBackend(testBackend);
});

const shape: [number, number, number, number] = [3, 2, 2, 4];
const channels = 4;
const count = 3 * 2 * 2;

/** Per-channel mean and biased variance of NHWC values (float64). */
function channelStatistics(values: number[]): { mean: number[]; variance: number[] } {
  const mean = Array.from({ length: channels }, (_, c) => {
    let sum = 0;
    for (let i = c; i < values.length; i += channels) sum += values[i] as number;
    return sum / count;
  });
  const variance = mean.map((m, c) => {
    let sum = 0;
    for (let i = c; i < values.length; i += channels) sum += ((values[i] as number) - m) ** 2;
    return sum / count;
  });
  return { mean, variance };
}

describe('BatchNorm', () => {
  it('in training normalises each channel with the batch statistics, then applies γ and β', () => {
    const norm = new BatchNorm('bn_train', channels);
    const gamma = [1, 2, 0.5, -1];
    const beta = [0, 1, -1, 0.25];
    norm.gamma.assign(tf.tensor1d(gamma));
    norm.beta.assign(tf.tensor1d(beta));
    const values = testValues(count * channels, 1, 2).map((v, i) => v + (i % channels));
    const output = tf.tidy(() => Array.from(norm.apply(tf.tensor4d(values, shape), { training: true }).dataSync()));
    const { mean, variance } = channelStatistics(values);
    const expected = values.map((v, i) => {
      const c = i % channels;
      return (
        (gamma[c] as number) * ((v - (mean[c] as number)) / Math.sqrt((variance[c] as number) + norm.epsilon)) +
        (beta[c] as number)
      );
    });
    expect(maxAbsDifference(output, expected)).toBeLessThan(1e-4);
    norm.dispose();
  });

  it('updates the moving statistics with momentum, and inference uses them', () => {
    const momentum = 0.8;
    const norm = new BatchNorm('bn_moving', channels, { momentum });
    const batches = [testValues(count * channels, 2, 1.5), testValues(count * channels, 3, 0.5).map((v) => v + 2)];
    let movingMean = [0, 0, 0, 0];
    let movingVariance = [1, 1, 1, 1];
    for (const values of batches) {
      tf.tidy(() => {
        norm.apply(tf.tensor4d(values, shape), { training: true });
      });
      const { mean, variance } = channelStatistics(values);
      movingMean = movingMean.map((m, c) => momentum * m + (1 - momentum) * (mean[c] as number));
      movingVariance = movingVariance.map((v, c) => momentum * v + (1 - momentum) * (variance[c] as number));
    }
    expect(maxAbsDifference(norm.movingMean.dataSync(), movingMean)).toBeLessThan(1e-5);
    expect(maxAbsDifference(norm.movingVariance.dataSync(), movingVariance)).toBeLessThan(1e-5);

    const frozen = Array.from(norm.movingMean.dataSync());
    tf.tidy(() => {
      norm.apply(tf.tensor4d(batches[0] as number[], shape), { training: true, updateStatistics: false });
    });
    expect(Array.from(norm.movingMean.dataSync())).toEqual(frozen);

    const input = testValues(count * channels, 4);
    const inference = tf.tidy(() => Array.from(norm.apply(tf.tensor4d(input, shape)).dataSync()));
    const expected = input.map((v, i) => {
      const c = i % channels;
      return (v - (movingMean[c] as number)) / Math.sqrt((movingVariance[c] as number) + norm.epsilon);
    });
    expect(maxAbsDifference(inference, expected)).toBeLessThan(1e-4);
    expect(Array.from(norm.movingMean.dataSync())).toEqual(frozen);
    norm.dispose();
  });

  it('has the gradients of the composed formula (stock autodiff on cpu) for x, γ and β', async () => {
    const values = testValues(count * channels, 5, 2);
    const upstream = testValues(count * channels, 6);
    const run = (useLayer: boolean) =>
      tf.tidy(() => {
        const norm = new BatchNorm(`bn_grad_${useLayer}`, channels);
        norm.gamma.assign(tf.tensor1d([1.5, -0.5, 1, 2]));
        norm.beta.assign(tf.tensor1d([0.1, 0.2, 0.3, 0.4]));
        const x = tf.variable(tf.tensor4d(values, shape), true, `bn_grad_x_${useLayer}`);
        const dy = tf.tensor4d(upstream, shape);
        const forward = () => {
          if (useLayer) return norm.apply(x, { training: true, updateStatistics: false });
          const { mean, variance } = tf.moments(x, [0, 1, 2]);
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
});
