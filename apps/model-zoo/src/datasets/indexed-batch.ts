import * as tf from '@tensorflow/tfjs';
import type { ImageDataset } from './image-dataset.js';
import { normalizedImages } from './normalized-images.js';

/**
 * Training batch `index` in the stored order (wrapping around), as flat normalised inputs
 * [size, h·w·c] and int32 labels: the same batch for every model that asks for `index`, as the
 * coordinate check needs at every width.
 */
export function indexedBatch(dataset: ImageDataset, index: number, size: number): { x: tf.Tensor2D; y: tf.Tensor1D } {
  const [height, width, channels] = dataset.imageShape;
  const features = height * width * channels;
  const images = new Float32Array(size * features);
  const labels = new Int32Array(size);
  const source = normalizedImages(dataset.train, dataset.normalization, channels);
  for (let row = 0; row < size; row++) {
    const example = (index * size + row) % dataset.train.count;
    labels[row] = dataset.train.labels[example] as number;
    images.set(source.subarray(example * features, (example + 1) * features), row * features);
  }
  return { x: tf.tensor2d(images, [size, features]), y: tf.tensor1d(labels, 'int32') };
}
