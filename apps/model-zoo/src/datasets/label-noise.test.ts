import { describe, expect, it } from 'vitest';
import type { ImageDataset } from './image-dataset.js';
import { withLabelNoise } from './label-noise.js';

/** A dataset of `count` examples whose true label is i mod classes, images irrelevant. */
function fixtureDataset(count: number, classes: number): ImageDataset {
  const labels = Uint8Array.from({ length: count }, (_, i) => i % classes);
  const split = { images: new Float32Array(count), labels, count };
  return {
    name: 'mnist',
    train: split,
    test: { ...split, labels: labels.slice() },
    imageShape: [1, 1, 1],
    classes,
    normalization: { mean: [0], std: [1] },
  };
}

describe('withLabelNoise', () => {
  it('corrupts exactly round(fraction · count) training labels, each to another class, and no test label', () => {
    const dataset = fixtureDataset(4000, 10);
    for (const fraction of [0.2, 0.4, 0.123]) {
      const noisy = withLabelNoise(dataset, fraction, 3);
      let wrong = 0;
      for (let i = 0; i < 4000; i++) if (noisy.train.labels[i] !== dataset.train.labels[i]) wrong += 1;
      expect(wrong).toBe(Math.round(fraction * 4000));
      expect(Array.from(noisy.test.labels)).toEqual(Array.from(dataset.test.labels));
      expect(noisy.train.images).toBe(dataset.train.images);
    }
    // The input is not modified.
    expect(Array.from(dataset.train.labels.slice(0, 20))).toEqual(Array.from({ length: 20 }, (_, i) => i % 10));
  });

  it('draws the wrong label uniformly from the other classes', () => {
    const classes = 10;
    const dataset = fixtureDataset(60_000, classes);
    const noisy = withLabelNoise(dataset, 0.5, 11);
    // Offsets (noisy − true) mod classes are uniform on 1 … classes − 1 under symmetric noise.
    const counts = new Array<number>(classes).fill(0);
    for (let i = 0; i < 60_000; i++) {
      const truth = dataset.train.labels[i] as number;
      const label = noisy.train.labels[i] as number;
      if (label !== truth) counts[(label - truth + classes) % classes]! += 1;
    }
    expect(counts[0]).toBe(0);
    const expected = 30_000 / (classes - 1);
    const chiSquare = counts.slice(1).reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
    // χ² with 8 degrees of freedom: P(> 26.1) = 0.001.
    expect(chiSquare).toBeLessThan(26.1);
  });

  it('gives the same labels for the same seed and fraction, other labels for another seed', () => {
    const dataset = fixtureDataset(2000, 10);
    const a = withLabelNoise(dataset, 0.2, 5).train.labels;
    const b = withLabelNoise(dataset, 0.2, 5).train.labels;
    const c = withLabelNoise(dataset, 0.2, 6).train.labels;
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('returns the dataset itself at 0 and refuses a fraction outside [0, 1)', () => {
    const dataset = fixtureDataset(10, 10);
    expect(withLabelNoise(dataset, 0, 1)).toBe(dataset);
    for (const bad of [-0.1, 1, 1.5, Number.NaN]) {
      expect(() => withLabelNoise(dataset, bad, 1)).toThrow(/labelNoise must be a fraction in \[0, 1\).*got/);
    }
  });
});
