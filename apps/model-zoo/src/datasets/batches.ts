import { InvalidOptionError } from '@mup2/core';
import * as tf from '@tensorflow/tfjs';
import { drawCropFlip, writeCropFlipped } from './augmentation.js';
import type { DatasetSplit, ImageDataset } from './image-dataset.js';
import { normalizedImages, normalizeInPlace } from './normalized-images.js';
import { assertSeed, mixSeeds, seededRandom, shuffledIndices, type UniformRandom } from './seeded-random.js';

/** Images [B, h, w, c] float32, normalised, and their labels [B] int32. The caller disposes both. */
export interface Batch {
  readonly x: tf.Tensor4D;
  readonly y: tf.Tensor1D;
}

export interface TrainBatchOptions {
  readonly batchSize: number;
  /** With `epoch`, fixes the order and the augmentation: same seed and epoch, same batches. */
  readonly seed: number;
  /** Default 0. Each epoch gets its own order, derived from (seed, epoch). */
  readonly epoch?: number;
  /** Random crop (pad 4) and horizontal flip, the usual CIFAR-10 recipe. Default false. */
  readonly augment?: boolean;
}

export interface EvaluationBatchOptions {
  readonly batchSize: number;
  /** Default 'test'. */
  readonly split?: 'train' | 'test';
}

/** Stream ids mixed into the seed, so the order and the augmentation draw independent numbers. */
const ORDER_STREAM = 1;
const AUGMENT_STREAM = 2;

function assertBatchSize(batchSize: number): void {
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new InvalidOptionError(`batchSize must be a positive integer, got ${batchSize}`);
  }
}

/** Builds one batch from the examples `indices` of `split`: copies normalised rows (augmenting if asked), uploads. */
function makeBatch(
  dataset: ImageDataset,
  split: DatasetSplit,
  indices: ArrayLike<number>,
  augmentRandom: UniformRandom | undefined,
): Batch {
  const shape = dataset.imageShape;
  const imageSize = shape[0] * shape[1] * shape[2];
  const channels = shape[2];
  const size = indices.length;
  const pixels = new Float32Array(size * imageSize);
  const labels = new Int32Array(size);
  // A crop pads with black, 0 before normalising: augmented batches are normalised after the crop.
  const source = augmentRandom ? split.images : normalizedImages(split, dataset.normalization, channels);
  for (let i = 0; i < size; i++) {
    const example = indices[i]!;
    labels[i] = split.labels[example]!;
    if (augmentRandom) {
      writeCropFlipped(source, example * imageSize, shape, drawCropFlip(augmentRandom), pixels, i * imageSize);
    } else {
      pixels.set(source.subarray(example * imageSize, (example + 1) * imageSize), i * imageSize);
    }
  }
  if (augmentRandom) normalizeInPlace(pixels, dataset.normalization, channels);
  return {
    x: tf.tensor4d(pixels, [size, shape[0], shape[1], channels], 'float32'),
    y: tf.tensor1d(labels, 'int32'),
  };
}

/** Full batches per training epoch; the last partial batch is dropped so every step sees `batchSize` examples. */
export function trainBatchCount(dataset: ImageDataset, batchSize: number): number {
  assertBatchSize(batchSize);
  return Math.floor(dataset.train.count / batchSize);
}

/**
 * One epoch of the training split, shuffled by (seed, epoch), in batches of
 * exactly `batchSize`. Batches are made as the generator is advanced, so
 * stopping early leaves nothing allocated.
 */
export function* trainBatches(dataset: ImageDataset, options: TrainBatchOptions): Generator<Batch, void, undefined> {
  const epoch = options.epoch ?? 0;
  assertSeed(options.seed);
  assertSeed(epoch, 'epoch');
  const batches = trainBatchCount(dataset, options.batchSize);
  if (batches === 0) {
    throw new InvalidOptionError(
      `batchSize ${options.batchSize} is larger than the ${dataset.train.count} training examples of ${dataset.name}`,
    );
  }
  const order = shuffledIndices(dataset.train.count, seededRandom(mixSeeds(options.seed, epoch, ORDER_STREAM)));
  const augmentRandom = options.augment ? seededRandom(mixSeeds(options.seed, epoch, AUGMENT_STREAM)) : undefined;
  for (let batch = 0; batch < batches; batch++) {
    const indices = order.subarray(batch * options.batchSize, (batch + 1) * options.batchSize);
    yield makeBatch(dataset, dataset.train, indices, augmentRandom);
  }
}

/** A split in file order, in chunks of `batchSize` (the last one smaller), unaugmented: for evaluation. */
export function* evaluationBatches(
  dataset: ImageDataset,
  options: EvaluationBatchOptions,
): Generator<Batch, void, undefined> {
  assertBatchSize(options.batchSize);
  if (options.split !== undefined && options.split !== 'train' && options.split !== 'test') {
    throw new InvalidOptionError(`split must be 'train' or 'test', got '${options.split}'`);
  }
  const split = options.split === 'train' ? dataset.train : dataset.test;
  for (let start = 0; start < split.count; start += options.batchSize) {
    const end = Math.min(split.count, start + options.batchSize);
    const indices = Array.from({ length: end - start }, (_, i) => start + i);
    yield makeBatch(dataset, split, indices, undefined);
  }
}
