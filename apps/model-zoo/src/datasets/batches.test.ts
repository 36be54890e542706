import { InvalidOptionError } from '@mup2/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { type Batch, evaluationBatches, trainBatchCount, trainBatches } from './batches.js';
import type { ImageDataset } from './image-dataset.js';

/**
 * 50 train and 13 test images of 4×4×3 in which every pixel of example i holds
 * (i + 1) / 100 plus a channel offset, so an image tells which example it is.
 */
function numberedDataset(): ImageDataset {
  const shape = [4, 4, 3] as const;
  const split = (count: number) => {
    const images = new Float32Array(count * 48);
    for (let i = 0; i < count; i++) {
      for (let p = 0; p < 16; p++) {
        for (let c = 0; c < 3; c++) images[i * 48 + p * 3 + c] = (i + 1) / 100 + c * 0.001;
      }
    }
    return { images, labels: Uint8Array.from({ length: count }, (_, i) => i % 10), count };
  };
  return {
    name: 'cifar10',
    train: split(50),
    test: split(13),
    imageShape: shape,
    classes: 10,
    normalization: { mean: [0.5, 0.25, 0], std: [2, 0.5, 1] },
  };
}

/** The example a batch image came from, read back from its centre pixel's blue channel (mean 0, std 1). */
const exampleOf = (x: Float32Array, image: number) => Math.round((x[image * 48 + 5 * 3 + 2]! - 0.002) * 100) - 1;

function take(batches: Iterable<Batch>): { x: Float32Array; y: Int32Array; shape: number[]; dtypes: string[] }[] {
  const out = [];
  for (const batch of batches) {
    out.push({
      x: batch.x.dataSync() as Float32Array,
      y: batch.y.dataSync() as Int32Array,
      shape: [...batch.x.shape, ...batch.y.shape],
      dtypes: [batch.x.dtype, batch.y.dtype],
    });
    tf.dispose([batch.x, batch.y]);
  }
  return out;
}

const dataset = numberedDataset();

describe('trainBatches', () => {
  it('gives floor(n / B) batches of x [B,h,w,c] float32 and y [B] int32, each example at most once', () => {
    expect(trainBatchCount(dataset, 16)).toBe(3);
    const batches = take(trainBatches(dataset, { batchSize: 16, seed: 1 }));
    expect(batches).toHaveLength(3);
    const seen: number[] = [];
    for (const batch of batches) {
      expect(batch.shape).toEqual([16, 4, 4, 3, 16]);
      expect(batch.dtypes).toEqual(['float32', 'int32']);
      for (let i = 0; i < 16; i++) {
        const example = exampleOf(batch.x, i);
        expect(batch.y[i]).toBe(example % 10);
        seen.push(example);
      }
    }
    expect(new Set(seen).size).toBe(48);
    expect(seen.every((example) => example >= 0 && example < 50)).toBe(true);
  });

  it('normalises each channel: (pixel − mean[c]) / std[c]', () => {
    const [batch] = take(trainBatches(dataset, { batchSize: 5, seed: 2 }));
    const example = exampleOf(batch!.x, 0);
    const pixel = (c: number) => (example + 1) / 100 + c * 0.001;
    expect(batch!.x[0]).toBeCloseTo((pixel(0) - 0.5) / 2, 6);
    expect(batch!.x[1]).toBeCloseTo((pixel(1) - 0.25) / 0.5, 6);
    expect(batch!.x[2]).toBeCloseTo(pixel(2), 6);
  });

  it('repeats the order for the same seed and epoch, and changes it with either', () => {
    const order = (seed: number, epoch: number) =>
      take(trainBatches(dataset, { batchSize: 10, seed, epoch })).flatMap((batch) =>
        Array.from({ length: 10 }, (_, i) => exampleOf(batch.x, i)),
      );
    expect(order(3, 0)).toEqual(order(3, 0));
    expect(order(3, 0)).not.toEqual(order(4, 0));
    expect(order(3, 0)).not.toEqual(order(3, 1));
    expect(order(3, 1)).toEqual(order(3, 1));
    // Not the file order either.
    expect(order(3, 0)).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('augments with crop and flip: same shapes, repeatable by seed, different from the plain batch', () => {
    const ramp = numberedDataset();
    // A horizontal ramp, so flips and shifts change values: pixel (y, x) = (x + 1) / 4 on every channel, never 0.
    for (let i = 0; i < ramp.train.count * 16; i++) ramp.train.images.fill(((i % 4) + 1) / 4, i * 3, i * 3 + 3);
    const plain = take(trainBatches(ramp, { batchSize: 25, seed: 9 }));
    const augmented = take(trainBatches(ramp, { batchSize: 25, seed: 9, augment: true }));
    const again = take(trainBatches(ramp, { batchSize: 25, seed: 9, augment: true }));
    const otherSeed = take(trainBatches(ramp, { batchSize: 25, seed: 10, augment: true }));
    expect(augmented.map((batch) => batch.shape)).toEqual(plain.map((batch) => batch.shape));
    expect(augmented.map((batch) => batch.dtypes)).toEqual(plain.map((batch) => batch.dtypes));
    // Same order of examples: augmentation draws from its own stream, so labels match the plain run.
    expect(augmented.map((batch) => [...batch.y])).toEqual(plain.map((batch) => [...batch.y]));
    expect(again.map((batch) => [...batch.x])).toEqual(augmented.map((batch) => [...batch.x]));
    expect(augmented[0]!.x).not.toEqual(plain[0]!.x);
    expect(otherSeed[0]!.x).not.toEqual(augmented[0]!.x);
    // Padding is black before normalisation: (0 − mean) / std appears, in channel 0 that is −0.25.
    expect(augmented.some((batch) => batch.x.some((value, i) => i % 3 === 0 && value === -0.25))).toBe(true);
  });

  it('rejects a batch size that is not a positive integer or larger than the training set', () => {
    expect(() => trainBatches(dataset, { batchSize: 0, seed: 1 }).next()).toThrow(InvalidOptionError);
    expect(() => trainBatches(dataset, { batchSize: 51, seed: 1 }).next()).toThrow(
      'batchSize 51 is larger than the 50 training examples of cifar10',
    );
    expect(() => trainBatches(dataset, { batchSize: 5, seed: 0.5 }).next()).toThrow('seed must be an integer');
  });
});

describe('evaluationBatches', () => {
  it('gives the test split in file order in chunks, the last one smaller', () => {
    const chunks = take(evaluationBatches(dataset, { batchSize: 5 }));
    expect(chunks.map((chunk) => chunk.shape)).toEqual([
      [5, 4, 4, 3, 5],
      [5, 4, 4, 3, 5],
      [3, 4, 4, 3, 3],
    ]);
    const examples = chunks.flatMap((chunk) => Array.from({ length: chunk.y.length }, (_, i) => exampleOf(chunk.x, i)));
    expect(examples).toEqual(Array.from({ length: 13 }, (_, i) => i));
    expect(chunks.flatMap((chunk) => [...chunk.y])).toEqual([...dataset.test.labels]);
  });

  it('can go over the training split, unshuffled', () => {
    const chunks = take(evaluationBatches(dataset, { batchSize: 64, split: 'train' }));
    expect(chunks).toHaveLength(1);
    expect(exampleOf(chunks[0]!.x, 49)).toBe(49);
    expect(() => evaluationBatches(dataset, { batchSize: 4, split: 'valid' as 'test' }).next()).toThrow(
      "split must be 'train' or 'test', got 'valid'",
    );
  });
});

describe('tensor bookkeeping', () => {
  it('leaves no tensor behind after full epochs, augmented or not, and after stopping early', () => {
    const before = tf.memory().numTensors;
    for (const augment of [false, true]) {
      for (const batch of trainBatches(dataset, { batchSize: 8, seed: 1, augment })) tf.dispose([batch.x, batch.y]);
    }
    for (const batch of evaluationBatches(dataset, { batchSize: 4 })) tf.dispose([batch.x, batch.y]);
    for (const batch of trainBatches(dataset, { batchSize: 8, seed: 2 })) {
      tf.dispose([batch.x, batch.y]);
      break;
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('holds exactly two tensors per batch the caller has not disposed', () => {
    const before = tf.memory().numTensors;
    const batches = trainBatches(dataset, { batchSize: 10, seed: 1 });
    const first = batches.next().value as Batch;
    const second = batches.next().value as Batch;
    expect(tf.memory().numTensors).toBe(before + 4);
    tf.dispose([first.x, first.y, second.x, second.y]);
    batches.return();
    expect(tf.memory().numTensors).toBe(before);
  });
});
