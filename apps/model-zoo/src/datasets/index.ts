export { CROP_PADDING, type CropFlip, drawCropFlip, writeCropFlipped } from './augmentation.js';
export {
  type Batch,
  type EvaluationBatchOptions,
  evaluationBatches,
  type TrainBatchOptions,
  trainBatchCount,
  trainBatches,
} from './batches.js';
export {
  CIFAR10_CLASSES,
  CIFAR10_RECORD_BYTES,
  CIFAR10_TEST_FILES,
  CIFAR10_TRAIN_FILES,
  loadCifar10,
} from './cifar10.js';
export { DatasetError } from './dataset-error.js';
export { DEFAULT_FASHION_MNIST_DIR, FASHION_MNIST_CLASSES, loadFashionMnist } from './fashion-mnist.js';
export { type IdxArray, parseIdx } from './idx-file.js';
export {
  DATASET_NAMES,
  type DatasetName,
  type DatasetSplit,
  type ImageDataset,
  isDatasetName,
  type Normalization,
} from './image-dataset.js';
export { type LoadDatasetOptions, loadDataset } from './load-dataset.js';
export type { DatasetLoadOptions } from './load-options.js';
export { loadMnist, MNIST_CLASSES, MNIST_TEST_COUNT, MNIST_TRAIN_COUNT } from './mnist.js';
export { DATASET_NORMALIZATION } from './normalization.js';
export { mixSeeds, seededRandom, shuffledIndices, type UniformRandom } from './seeded-random.js';
