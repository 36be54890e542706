import { describe, expect, it } from 'vitest';
import { trainRun } from '../training/train-run.js';
import type { ImageDataset } from './image-dataset.js';
import { lastDatasetKept } from './last-dataset-kept.js';
import type { LoadDatasetOptions } from './load-dataset.js';

/** A loader that records its calls and makes a new (tiny) data set object each time, or fails when told. */
function countingLoader() {
  const calls: LoadDatasetOptions[] = [];
  let failNext = false;
  const load = async (options: LoadDatasetOptions): Promise<ImageDataset> => {
    calls.push(options);
    if (failNext) {
      failNext = false;
      throw new Error('disk gone');
    }
    const split = { images: new Float32Array(4), labels: new Uint8Array(1), count: 1 };
    return {
      name: options.name,
      train: split,
      test: split,
      imageShape: [2, 2, 1],
      classes: 2,
      normalization: { mean: [0], std: [1] },
    };
  };
  return { calls, load, failOnce: () => (failNext = true) };
}

describe('lastDatasetKept', () => {
  it('loads once for the same options and hands out the same data set', async () => {
    const loader = countingLoader();
    const load = lastDatasetKept(loader.load);
    const first = await load({ name: 'mnist', limit: 100 });
    const second = await load({ limit: 100, name: 'mnist' });
    expect(second).toBe(first);
    expect(loader.calls).toHaveLength(1);
  });

  it('keeps one data set: other options load again, and so does coming back', async () => {
    const loader = countingLoader();
    const load = lastDatasetKept(loader.load);
    const a = await load({ name: 'mnist', limit: 100 });
    const b = await load({ name: 'mnist', limit: 100, testLimit: 50 });
    const c = await load({ name: 'fashion-mnist', limit: 100, testLimit: 50 });
    const d = await load({ name: 'fashion-mnist', limit: 100, testLimit: 50, dataDir: '/elsewhere' });
    const e = await load({ name: 'cifar10', cifar10BatchRecords: null });
    const f = await load({ name: 'cifar10' });
    const again = await load({ name: 'mnist', limit: 100 });
    expect(new Set([a, b, c, d, e, f, again]).size).toBe(7);
    expect(loader.calls).toHaveLength(7);
  });

  it('does not keep a load that failed', async () => {
    const loader = countingLoader();
    const load = lastDatasetKept(loader.load);
    loader.failOnce();
    await expect(load({ name: 'mnist' })).rejects.toThrow('disk gone');
    const dataset = await load({ name: 'mnist' });
    expect(dataset.name).toBe('mnist');
    expect(loader.calls).toHaveLength(2);
  });

  it("trainRun on a kept data set gives the fresh load's result, and later runs do not load", async () => {
    const config = {
      model: 'mlp',
      widthMult: 1,
      rule: 'sgd',
      preset: 'mup2',
      lr: 0.03,
      rho: 0.05,
      epochs: 1,
      batch: 64,
      seed: 2,
      dataset: 'mnist',
      limit: 256,
      labelNoise: 0.2,
    } as const;
    const fresh = await trainRun(config);
    let loads = 0;
    const kept = lastDatasetKept(async (options) => {
      loads += 1;
      const { loadDataset } = await import('./load-dataset.js');
      return loadDataset(options);
    });
    const first = await trainRun(config, { loadDataset: kept });
    const second = await trainRun({ ...config, seed: 3 }, { loadDataset: kept });
    // The runs before left the kept data set as it was: the first cell again, the same numbers.
    const third = await trainRun(config, { loadDataset: kept });
    expect(loads).toBe(1);
    expect(first.trainLoss).toBe(fresh.trainLoss);
    expect(third.trainLoss).toBe(fresh.trainLoss);
    expect(first.finalTestAccuracy).toBe(fresh.finalTestAccuracy);
    // Label noise is drawn per run from the shared data set: another seed, other labels, another loss.
    expect(second.trainLoss).not.toBe(first.trainLoss);
  });
});
