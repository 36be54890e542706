/** The data sets `loadDataset` knows, by the name the CLI and the bench use. */
export const DATASET_NAMES = ['mnist', 'fashion-mnist', 'cifar10'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

export function isDatasetName(name: string): name is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(name);
}

/**
 * One split held in memory. `images` holds `count` images one after the other,
 * each height × width × channels (NHWC), as pixel intensities in [0, 1]:
 * normalisation happens when a batch is made, so random-crop padding is black
 * as in the usual CIFAR recipe.
 */
export interface DatasetSplit {
  readonly images: Float32Array;
  readonly labels: Uint8Array | Int32Array;
  readonly count: number;
}

/** Per-channel mean and standard deviation of the training pixels in [0, 1]; a batch holds (x − mean) / std. */
export interface Normalization {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

export interface ImageDataset {
  readonly name: DatasetName;
  readonly train: DatasetSplit;
  readonly test: DatasetSplit;
  /** [height, width, channels] */
  readonly imageShape: readonly [number, number, number];
  readonly classes: number;
  readonly normalization: Normalization;
}
