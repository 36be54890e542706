import type { ImageDataset } from './image-dataset.js';
import { type LoadDatasetOptions, loadDataset } from './load-dataset.js';

export type DatasetLoader = (options: LoadDatasetOptions) => Promise<ImageDataset>;

/**
 * A `loadDataset` that keeps the data set it loaded last and hands the same one out while the
 * options are the same: for a sweep's worker, whose cells share one data set (reading and unzipping
 * Fashion-MNIST takes about half a second, building the embedded digits tens of milliseconds, per
 * cell). One data set is kept at a time; a load that fails is not kept. The data set is shared, so
 * its users must not write into it (the trainer does not).
 */
export function lastDatasetKept(load: DatasetLoader = loadDataset): DatasetLoader {
  let kept: { readonly key: string; readonly dataset: Promise<ImageDataset> } | undefined;
  return (options) => {
    const key = JSON.stringify([
      options.name,
      options.dataDir ?? null,
      options.limit ?? null,
      options.testLimit ?? null,
      options.cifar10BatchRecords === undefined ? 'default' : options.cifar10BatchRecords,
    ]);
    if (kept?.key === key) return kept.dataset;
    const entry = { key, dataset: load(options) };
    kept = entry;
    entry.dataset.catch(() => {
      if (kept === entry) kept = undefined;
    });
    return entry.dataset;
  };
}
