import { InvalidOptionError } from '@mup2/core';
import type { ImageDataset } from './image-dataset.js';
import { mixSeeds, seededRandom, shuffledIndices } from './seeded-random.js';

/** Tags the label-noise stream so it is unrelated to the batch order and the initialisation of the same seed. */
const LABEL_NOISE_STREAM = 0x4e4f4953;

/** Throws an InvalidOptionError unless `fraction` is a number in [0, 1). */
export function assertLabelNoise(fraction: unknown, context = 'labelNoise'): asserts fraction is number {
  if (typeof fraction !== 'number' || !Number.isFinite(fraction) || fraction < 0 || fraction >= 1) {
    throw new InvalidOptionError(
      `${context} must be a fraction in [0, 1) of training labels to corrupt, got ${String(fraction)}.`,
    );
  }
}

/**
 * Symmetric label noise on the training split (Foret et al. 2021, §4.3, after Jiang et al. 2018):
 * exactly round(fraction · count) training examples, drawn without replacement, get a label drawn
 * uniformly from the *other* classes, so `fraction` is the share of wrong labels. The test split
 * keeps its true labels. Which examples and which wrong labels depend on `seed` and `fraction`
 * alone, so every run of one seed sees the same noisy labels. Returns a new dataset sharing the
 * images; `fraction` 0 returns the dataset itself.
 */
export function withLabelNoise(dataset: ImageDataset, fraction: number, seed: number): ImageDataset {
  assertLabelNoise(fraction);
  if (fraction === 0) return dataset;
  if (dataset.classes < 2) {
    throw new InvalidOptionError(
      `labelNoise needs at least 2 classes to draw a wrong label, ${dataset.name} has ${dataset.classes}.`,
    );
  }
  const { train } = dataset;
  const random = seededRandom(mixSeeds(seed, LABEL_NOISE_STREAM));
  const corrupted = Math.round(fraction * train.count);
  const order = shuffledIndices(train.count, random);
  const labels = Int32Array.from(train.labels);
  for (let i = 0; i < corrupted; i++) {
    const example = order[i] as number;
    const truth = labels[example] as number;
    // One of the classes - 1 others, uniformly: draw from 0 … classes − 2 and step over the true class.
    const drawn = Math.floor(random() * (dataset.classes - 1));
    labels[example] = drawn >= truth ? drawn + 1 : drawn;
  }
  return { ...dataset, train: { ...train, labels } };
}
