import { DatasetError } from './dataset-error.js';
import { findDatasetFile, readDatasetFile } from './dataset-file.js';
import { parseIdx } from './idx-file.js';
import type { DatasetSplit, ImageDataset } from './image-dataset.js';
import { type DatasetLoadOptions, limitedCount, splitLimits } from './load-options.js';
import { DATASET_NORMALIZATION } from './normalization.js';

/** Where Debian's `dataset-fashion-mnist` package puts the four gzipped IDX files. */
export const DEFAULT_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export const FASHION_MNIST_CLASSES = 10;

/** The names Zalando publishes and Debian ships (with .gz); the plain name is tried too. */
const SPLIT_FILES = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
} as const;

async function readIdxFile(directory: string, baseName: string, dimCount: number) {
  const file = await findDatasetFile([directory], [`${baseName}.gz`, baseName], 'fashion-mnist');
  return { file, ...parseIdx(await readDatasetFile(file), dimCount, file) };
}

async function loadSplit(
  directory: string,
  names: { images: string; labels: string },
  limit: number | undefined,
): Promise<{ split: DatasetSplit; height: number; width: number }> {
  const images = await readIdxFile(directory, names.images, 3);
  const labels = await readIdxFile(directory, names.labels, 1);
  const [imageCount, height, width] = images.dims as [number, number, number];
  const labelCount = labels.dims[0]!;
  if (imageCount !== labelCount) {
    throw new DatasetError(`${labels.file}: ${labelCount} labels for the ${imageCount} images of ${images.file}`, {
      file: labels.file,
    });
  }
  const count = limitedCount(imageCount, limit);
  const labelValues = labels.data.slice(0, count);
  const badIndex = labelValues.findIndex((label) => label >= FASHION_MNIST_CLASSES);
  if (badIndex >= 0) {
    throw new DatasetError(
      `${labels.file}: label out of range at index ${badIndex}: ${labelValues[badIndex]}, expected 0…${FASHION_MNIST_CLASSES - 1}`,
      { file: labels.file },
    );
  }
  const pixels = new Float32Array(count * height * width);
  for (let i = 0; i < pixels.length; i++) pixels[i] = images.data[i]! / 255;
  return { split: { images: pixels, labels: labelValues, count }, height, width };
}

/**
 * Fashion-MNIST from its four IDX files, plain or gzipped, in `dataDir`
 * (default: Debian's /usr/share/datasets/fashion-mnist). 60,000 train and
 * 10,000 test images of 28×28×1 when complete.
 */
export async function loadFashionMnist(options: DatasetLoadOptions = {}): Promise<ImageDataset> {
  const directory = options.dataDir ?? DEFAULT_FASHION_MNIST_DIR;
  const limits = splitLimits(options);
  const train = await loadSplit(directory, SPLIT_FILES.train, limits.train);
  const test = await loadSplit(directory, SPLIT_FILES.test, limits.test);
  if (train.height !== test.height || train.width !== test.width) {
    throw new DatasetError(
      `fashion-mnist in ${directory}: train images are ${train.height}×${train.width}, test images ${test.height}×${test.width}`,
      { file: directory },
    );
  }
  return {
    name: 'fashion-mnist',
    train: train.split,
    test: test.split,
    imageShape: [train.height, train.width, 1],
    classes: FASHION_MNIST_CLASSES,
    normalization: DATASET_NORMALIZATION['fashion-mnist'],
  };
}
