import * as tf from '@tensorflow/tfjs';
import type { ImageDataset } from './image-dataset.js';

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
  const { mean, std } = dataset.normalization;
  for (let row = 0; row < size; row++) {
    const example = (index * size + row) % dataset.train.count;
    labels[row] = dataset.train.labels[example] as number;
    for (let feature = 0; feature < features; feature++) {
      const channel = feature % channels;
      const value = dataset.train.images[example * features + feature] as number;
      images[row * features + feature] = (value - (mean[channel] as number)) / (std[channel] as number);
    }
  }
  return { x: tf.tensor2d(images, [size, features]), y: tf.tensor1d(labels, 'int32') };
}
