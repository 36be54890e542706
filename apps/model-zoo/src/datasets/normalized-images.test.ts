import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { evaluationBatches } from './batches.js';
import type { ImageDataset } from './image-dataset.js';
import { indexedBatch } from './indexed-batch.js';
import { normalizedImages } from './normalized-images.js';

/** 7 train and 3 test images of 2×2×2, pixels drawn from a fixed sequence in [0, 1). */
function fixtureDataset(): ImageDataset {
  let state = 12345;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const split = (count: number) => ({
    images: Float32Array.from({ length: count * 8 }, next),
    labels: Uint8Array.from({ length: count }, (_, i) => i % 4),
    count,
  });
  return {
    name: 'cifar10',
    train: split(7),
    test: split(3),
    imageShape: [2, 2, 2],
    classes: 4,
    normalization: { mean: [0.3, 0.6], std: [0.2, 1.5] },
  };
}

/** The definition, pixel by pixel in float64, rounded once to float32. */
const expected = (dataset: ImageDataset, images: Float32Array) =>
  Array.from(images, (value, i) =>
    Math.fround((value - dataset.normalization.mean[i % 2]!) / dataset.normalization.std[i % 2]!),
  );

describe('normalizedImages', () => {
  it('holds (x − mean[c]) / std[c] for every pixel, the raw images untouched', () => {
    const dataset = fixtureDataset();
    const raw = Array.from(dataset.train.images);
    expect(Array.from(normalizedImages(dataset.train, dataset.normalization, 2))).toEqual(
      expected(dataset, dataset.train.images),
    );
    expect(Array.from(dataset.train.images)).toEqual(raw);
  });

  it('computes once per images array and normalisation, again for another normalisation', () => {
    const dataset = fixtureDataset();
    const first = normalizedImages(dataset.train, dataset.normalization, 2);
    expect(normalizedImages(dataset.train, { mean: [0.3, 0.6], std: [0.2, 1.5] }, 2)).toBe(first);
    const other = { mean: [0, 0], std: [1, 2] };
    const again = normalizedImages(dataset.train, other, 2);
    expect(again).not.toBe(first);
    expect(Array.from(again)).toEqual(
      Array.from(dataset.train.images, (value, i) => Math.fround(value / (i % 2 ? 2 : 1))),
    );
  });
});

describe('batches from the normalised images', () => {
  it('evaluationBatches hold the definition for every example of the split', () => {
    const dataset = fixtureDataset();
    const values: number[] = [];
    for (const { x, y } of evaluationBatches(dataset, { batchSize: 2 })) {
      values.push(...x.dataSync());
      tf.dispose([x, y]);
    }
    expect(values).toEqual(expected(dataset, dataset.test.images));
  });

  it('indexedBatch wraps around the training split, rows normalised', () => {
    const dataset = fixtureDataset();
    const before = tf.memory().numTensors;
    const { x, y } = indexedBatch(dataset, 1, 5); // examples 5, 6, 0, 1, 2
    const rows = [5, 6, 0, 1, 2];
    const all = expected(dataset, dataset.train.images);
    expect(x.shape).toEqual([5, 8]);
    expect(Array.from(x.dataSync())).toEqual(rows.flatMap((row) => all.slice(row * 8, row * 8 + 8)));
    expect(Array.from(y.dataSync())).toEqual(rows.map((row) => row % 4));
    tf.dispose([x, y]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
