import { InvalidOptionError } from '@mup2/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { lastDatasetKept } from '../datasets/last-dataset-kept.js';
import { loadDataset } from '../datasets/load-dataset.js';
import { ModelTooLargeError } from './memory-limit.js';
import type { TrainConfig } from './train-config.js';
import type { BatchProgress, EpochSummary, TrainStart } from './train-result.js';
import { trainRun } from './train-run.js';

/** A 784→64→64→10 MLP on the first 1,024 training and test digits of the embedded MNIST. */
const small: TrainConfig = {
  model: 'mlp',
  widthMult: 1,
  rule: 'sgd',
  preset: 'mup2',
  lr: 0.03,
  rho: 0.05,
  epochs: 2,
  batch: 32,
  seed: 1,
  dataset: 'mnist',
  limit: 1024,
};

describe('trainRun', () => {
  // Chance is 10%. At this size seeds 1–3 reached 81–87% after two epochs with either rule.
  it.each(['sgd', 'sam'] as const)('trains the MLP with %s well above chance in two epochs', async (rule) => {
    const result = await trainRun({ ...small, rule });
    expect(result.diverged).toBe(false);
    expect(result.finalTestAccuracy).toBeGreaterThan(0.7);
    expect(result.epochs.map((epoch) => epoch.epoch)).toEqual([1, 2]);
    const [first, second] = result.epochs as [EpochSummary, EpochSummary];
    expect(second.trainLoss).toBeLessThan(first.trainLoss);
    expect(result.trainLoss).toBe(second.trainLoss);
    expect(result.finalTestAccuracy).toBe(second.testAccuracy);
    expect(result.bestTestAccuracy).toBe(Math.max(first.testAccuracy as number, second.testAccuracy as number));
    expect(result.backend).toBe(tf.getBackend());
    expect(result.resumedFromEpoch).toBe(0);
    expect(result.seconds).toBeGreaterThan(0);
  });

  it('reports the accuracy on the training split at the final weights: 1 once 64 digits are memorised', async () => {
    // 64 examples, one batch, 40 full-batch steps at η 0.1 with momentum: a 64-unit MLP fits them all.
    const result = await trainRun({ ...small, limit: 64, testLimit: 256, batch: 64, lr: 0.1, epochs: 40 });
    expect(result.diverged).toBe(false);
    expect(result.finalTrainAccuracy).toBe(1);
    // The test split kept its own size.
    const short = await trainRun({ ...small, limit: 64, testLimit: 256, batch: 64, epochs: 1 });
    expect(short.finalTrainAccuracy).toBeGreaterThan(0);
    expect(short.finalTrainAccuracy).toBeLessThan(1);
  });

  it('evaluates the test split every evalEvery epochs and after the last, with the same weights as evaluating always', async () => {
    const config = { ...small, limit: 256, batch: 64, epochs: 5 };
    const always = await trainRun(config);
    const sparse = await trainRun({ ...config, evalEvery: 2 });
    expect(sparse.epochs.map((epoch) => epoch.testAccuracy === null)).toEqual([true, false, true, false, false]);
    expect(sparse.epochs.map((epoch) => epoch.testAccuracy)).toEqual(
      always.epochs.map((epoch, index) => ([1, 3, 4].includes(index) ? epoch.testAccuracy : null)),
    );
    expect(sparse.finalTestAccuracy).toBe(always.finalTestAccuracy);
    expect(sparse.trainLoss).toBe(always.trainLoss);
    expect(sparse.finalTrainAccuracy).toBe(always.finalTrainAccuracy);
  });

  it.each(['asam', 'sam-on'] as const)('trains with %s', async (rule) => {
    const result = await trainRun({ ...small, rule, rho: rule === 'asam' ? 0.5 : 0.05, epochs: 1 });
    expect(result.diverged).toBe(false);
    expect(result.finalTestAccuracy).toBeGreaterThan(0.4);
  });

  it('reports every batch and epoch to the hooks', async () => {
    const starts: TrainStart[] = [];
    const batches: BatchProgress[] = [];
    const epochs: EpochSummary[] = [];
    const result = await trainRun(
      { ...small, limit: 256, batch: 64 },
      { onStart: (start) => starts.push(start), onBatch: (p) => batches.push(p), onEpoch: (s) => epochs.push(s) },
    );
    expect(starts).toHaveLength(1);
    expect(starts[0]).toMatchObject({ startEpoch: 0, batchesPerEpoch: 4, trainExamples: 256, testExamples: 256 });
    expect(starts[0]?.parameters).toBe(784 * 64 + 64 * 64 + 64 * 10 + 64);
    expect(batches.map((p) => `${p.epoch}.${p.batch}/${p.batches}`)).toEqual([
      '1.1/4',
      '1.2/4',
      '1.3/4',
      '1.4/4',
      '2.1/4',
      '2.2/4',
      '2.3/4',
      '2.4/4',
    ]);
    const lastOfFirst = batches[3] as BatchProgress;
    expect(lastOfFirst.meanLoss).toBeCloseTo(result.epochs[0]?.trainLoss as number, 12);
    expect(lastOfFirst.trainAccuracy).toBe(result.epochs[0]?.trainAccuracy);
    expect(epochs).toEqual(result.epochs);
  });

  it("takes its data set from the loadDataset hook: a kept one gives a fresh load's result, later runs load nothing", async () => {
    const config = { ...small, epochs: 1, batch: 64, seed: 2, limit: 256, labelNoise: 0.2 };
    const fresh = await trainRun(config);
    let loads = 0;
    const kept = lastDatasetKept((options) => {
      loads += 1;
      return loadDataset(options);
    });
    const first = await trainRun(config, { loadDataset: kept });
    const second = await trainRun({ ...config, seed: 3 }, { loadDataset: kept });
    // The runs before left the kept data set as it was: the first cell again, the same numbers.
    const third = await trainRun(config, { loadDataset: kept });
    expect(loads).toBe(1);
    expect(first.trainLoss).toBe(fresh.trainLoss);
    expect(third.trainLoss).toBe(fresh.trainLoss);
    // Label noise is drawn per run from the shared data set: another seed, other labels, another loss.
    expect(second.trainLoss).not.toBe(first.trainLoss);
  });

  it('leaks no tensors from one epoch to the next and disposes the model and optimizer at the end', async () => {
    const tensorsAfterEpoch: number[] = [];
    await trainRun(
      { ...small, rule: 'sam', epochs: 3, limit: 256, batch: 64 },
      { onEpoch: () => tensorsAfterEpoch.push(tf.memory().numTensors) },
    );
    // After epoch 1 the momentum buffers exist; nothing else may pile up.
    expect(tensorsAfterEpoch[1]).toBe(tensorsAfterEpoch[0]);
    expect(tensorsAfterEpoch[2]).toBe(tensorsAfterEpoch[0]);
    expect(Object.keys(tf.engine().registeredVariables)).toEqual([]);
  });

  it('stops and reports divergence instead of throwing when the loss becomes NaN', async () => {
    for (const rule of ['sgd', 'sam'] as const) {
      const result = await trainRun({ ...small, rule, lr: 1e6, epochs: 3, limit: 256, batch: 64 });
      expect(result.diverged).toBe(true);
      expect(result.divergedAtEpoch).toBe(1);
      expect(result.epochs).toEqual([]);
      expect(result.finalTestAccuracy).toBe(0);
      expect(result.trainLoss).toBeNaN();
    }
    expect(Object.keys(tf.engine().registeredVariables)).toEqual([]);
  });

  it('stops after the running step when its signal aborts: the epoch in progress abandoned, nothing left allocated', async () => {
    const abort = new AbortController();
    const batches: BatchProgress[] = [];
    const tensors = tf.memory().numTensors;
    const result = await trainRun(
      { ...small, rule: 'sam', epochs: 3, limit: 256, batch: 32 },
      {
        signal: abort.signal,
        onBatch: (progress) => {
          batches.push(progress);
          // Epoch 2, step 3 of 8.
          if (progress.epoch === 2 && progress.batch === 3) abort.abort();
        },
      },
    );
    expect(batches.at(-1)).toMatchObject({ epoch: 2, batch: 3 });
    expect(result.interruptedInEpoch).toBe(2);
    expect(result.epochs.map((epoch) => epoch.epoch)).toEqual([1]);
    expect(result.finalTestAccuracy).toBe(result.epochs[0]?.testAccuracy);
    expect(result.finalTrainAccuracy).toBeNaN();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(Object.keys(tf.engine().registeredVariables)).toEqual([]);
  });

  it('refuses a model too large for its memory limit before loading anything', async () => {
    const error = await trainRun(
      { ...small, widthMult: 1000 },
      { memoryLimit: { kind: 'bytes', bytes: 2 ** 30 } },
    ).catch((caught: unknown) => caught);
    expect(ModelTooLargeError.isInstance(error)).toBe(true);
    // 64,000 units: 784·n + n² + 10·n + n.
    expect((error as Error).message).toMatch(
      /^mlp at width multiplier 1000 on mnist, batch 32: 4,146,880,000 parameters/,
    );
    expect(Object.keys(tf.engine().registeredVariables)).toEqual([]);
  });

  it('names a batch larger than the training split', async () => {
    const error = await trainRun({ ...small, limit: 16, batch: 32 }).catch((caught: unknown) => caught);
    expect(InvalidOptionError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe('trainRun: batch 32 is larger than the 16 training examples of mnist.');
  });
});
