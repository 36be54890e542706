import { describe, expect, it } from 'vitest';
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
  const failOnce = () => {
    failNext = true;
  };
  return { calls, load, failOnce };
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
});
