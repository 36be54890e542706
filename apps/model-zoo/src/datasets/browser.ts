// The data set helpers that read no files: batches, augmentation, the split types, IDX parsing.
export {
  CROP_PADDING,
  type CropFlip,
  drawCropFlip,
  writeCropFlipped,
} from './augmentation.js';
export {
  type Batch,
  type EvaluationBatchOptions,
  evaluationBatches,
  type TrainBatchOptions,
  trainBatchCount,
  trainBatches,
} from './batches.js';
export { DatasetError } from './dataset-error.js';
export { type IdxArray, parseIdx } from './idx-file.js';
export {
  DATASET_NAMES,
  type DatasetName,
  type DatasetSplit,
  type ImageDataset,
  isDatasetName,
  type Normalization,
} from './image-dataset.js';
export { indexedBatch } from './indexed-batch.js';
export type { DatasetLoadOptions } from './load-options.js';
export { DATASET_NORMALIZATION } from './normalization.js';
export { mixSeeds, seededRandom, shuffledIndices, type UniformRandom } from './seeded-random.js';
