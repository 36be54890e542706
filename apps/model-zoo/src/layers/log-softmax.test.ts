import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { LAYER_FORM_CANDIDATES, layerFormRuns, withLayerForms } from './layer-forms.js';
import { logSoftmax, softmaxCrossEntropy } from './log-softmax.js';
import { maxAbsDifference, testValues } from './test-values.js';

/** log softmax of one row in float64, shifted by the maximum for stability. */
function logSoftmax64(row: number[]): number[] {
  const top = Math.max(...row);
  const logSum = Math.log(row.reduce((sum, value) => sum + Math.exp(value - top), 0)) + top;
  return row.map((value) => value - logSum);
}

describe.each(LAYER_FORM_CANDIDATES.logSoftmax)('logSoftmax, %s form', (form) => {
  const logSoftmaxOf = (x: tf.Tensor2D) => withLayerForms({ logSoftmax: form }, () => logSoftmax(x));
  const crossEntropyOf = (x: tf.Tensor2D, labels: tf.Tensor1D) =>
    withLayerForms({ logSoftmax: form }, () => softmaxCrossEntropy(x, labels));
  const rows = [testValues(5, 1, 3), testValues(5, 2, 3), [100, 101, 99, -50, 100.5]];

  it('equals x − log Σ exp(x) per row (float64), also for large logits', () => {
    const actual = tf.tidy(() => logSoftmaxOf(tf.tensor2d(rows)).arraySync());
    expect(maxAbsDifference(actual.flat(), rows.flatMap(logSoftmax64))).toBeLessThan(1e-4);
  });

  it('cross-entropy is the mean of −log p(label), with gradient (softmax − onehot)/batch', () => {
    const labels = [3, 0, 1];
    const [loss, gradient] = tf.tidy(() => {
      const logits = tf.tensor2d(rows);
      const value = crossEntropyOf(logits, tf.tensor1d(labels, 'int32'));
      const g = tf.grad((x: tf.Tensor) => crossEntropyOf(x as tf.Tensor2D, tf.tensor1d(labels, 'int32')))(logits);
      return [value.dataSync()[0] as number, g.arraySync() as number[][]];
    });
    const logProbabilities = rows.map(logSoftmax64);
    const expectedLoss = -labels.reduce((sum, label, i) => sum + (logProbabilities[i]?.[label] as number), 0) / 3;
    expect(Math.abs((loss as number) - expectedLoss)).toBeLessThan(1e-4);
    const expectedGradient = logProbabilities.flatMap((row, i) =>
      row.map((logP, j) => (Math.exp(logP) - (j === labels[i] ? 1 : 0)) / 3),
    );
    expect(maxAbsDifference((gradient as number[][]).flat(), expectedGradient)).toBeLessThan(1e-5);
  });
});

const crossEntropyForms = LAYER_FORM_CANDIDATES.crossEntropy.filter((form) =>
  layerFormRuns('crossEntropy', form, tf.getBackend()),
);

describe.each(crossEntropyForms)('softmaxCrossEntropy, %s form', (form) => {
  const crossEntropyOf = (x: tf.Tensor2D, labels: tf.Tensor1D) =>
    withLayerForms({ crossEntropy: form }, () => softmaxCrossEntropy(x, labels));
  const rows = [testValues(4, 3, 2), testValues(4, 4, 2), [30, -20, 31, 29.5], testValues(4, 5, 2)];
  const labels = [1, 3, 2, 0];

  it('is the mean of −log p(label) with gradient (softmax − onehot)/batch (float64), with float labels too', () => {
    for (const dtype of ['int32', 'float32'] as const) {
      const [loss, gradient] = tf.tidy(() => {
        const logits = tf.tensor2d(rows);
        const y = tf.tensor1d(labels, dtype);
        const value = crossEntropyOf(logits, y);
        const g = tf.grad((x: tf.Tensor) => tf.mul(crossEntropyOf(x as tf.Tensor2D, y), 3))(logits);
        return [value.dataSync()[0] as number, Array.from(g.dataSync())];
      });
      const logProbabilities = rows.map(logSoftmax64);
      const expectedLoss = -labels.reduce((sum, label, i) => sum + (logProbabilities[i]?.[label] as number), 0) / 4;
      expect(Math.abs((loss as number) - expectedLoss)).toBeLessThan(1e-5);
      // Three times the loss, so the gradient's scaling by the upstream gradient is checked too.
      const expectedGradient = logProbabilities.flatMap((row, i) =>
        row.map((logP, j) => (3 * (Math.exp(logP) - (j === labels[i] ? 1 : 0))) / 4),
      );
      expect(maxAbsDifference(gradient as number[], expectedGradient)).toBeLessThan(1e-5);
    }
  });

  it('leaves no tensors behind', () => {
    const logits = tf.tensor2d(rows);
    const y = tf.tensor1d(labels, 'int32');
    const before = tf.memory().numTensors;
    for (let step = 0; step < 3; step++) {
      crossEntropyOf(logits, y).dispose();
      tf.grad((x: tf.Tensor) => crossEntropyOf(x as tf.Tensor2D, y))(logits).dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([logits, y]);
  });
});

describe.skipIf(!layerFormRuns('crossEntropy', 'addon-kernel', tf.getBackend()))(
  "softmaxCrossEntropy, mup2's addon kernel: what it refuses and what it passes on",
  () => {
    const crossEntropyOf = (x: tf.Tensor2D, labels: tf.Tensor1D) =>
      withLayerForms({ crossEntropy: 'addon-kernel' }, () => softmaxCrossEntropy(x, labels));

    it('refuses a label outside [0, classes), naming it, its row and the class count, and leaves no tensor', () => {
      const logits = tf.tensor2d([testValues(4, 1, 1), testValues(4, 2, 1)]);
      const before = tf.memory().numTensors;
      for (const [bad, row] of [
        [4, 1],
        [-1, 0],
      ] as const) {
        const labels = tf.tensor1d(row === 1 ? [0, bad] : [bad, 0], 'int32');
        expect(() => crossEntropyOf(logits, labels)).toThrow(
          new RegExp(`label ${bad} of row ${row} is outside \\[0, 4\\)`),
        );
        labels.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
      logits.dispose();
    });

    it('refuses labels of another length than the rows', () => {
      tf.tidy(() => {
        expect(() => crossEntropyOf(tf.zeros([3, 4]) as tf.Tensor2D, tf.tensor1d([0, 1], 'int32'))).toThrow(
          /labels a vector of N integers/,
        );
      });
    });

    it('makes the loss and only the NaN row of the gradient NaN, as the composition does', () => {
      const [loss, gradient] = tf.tidy(() => {
        const logits = tf.tensor2d([[0, Number.NaN, 1], testValues(3, 7, 1)]);
        const y = tf.tensor1d([0, 2], 'int32');
        const g = tf.grad((x: tf.Tensor) => crossEntropyOf(x as tf.Tensor2D, y))(logits);
        return [crossEntropyOf(logits, y).dataSync()[0] as number, g.arraySync() as number[][]];
      });
      expect(loss).toBeNaN();
      expect((gradient[0] as number[]).every(Number.isNaN)).toBe(true);
      expect((gradient[1] as number[]).every(Number.isFinite)).toBe(true);
    });
  },
);
