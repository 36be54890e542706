// The data sets: the file-free helpers of browser.ts, and the loaders that read the digits and files (Node only).
export * from './browser.js';
export {
  CIFAR10_CLASSES,
  CIFAR10_RECORD_BYTES,
  CIFAR10_TEST_FILES,
  CIFAR10_TRAIN_FILES,
  loadCifar10,
} from './cifar10.js';
export { DEFAULT_FASHION_MNIST_DIR, FASHION_MNIST_CLASSES, loadFashionMnist } from './fashion-mnist.js';
export { assertLabelNoise, withLabelNoise } from './label-noise.js';
export { type DatasetLoader, lastDatasetKept } from './last-dataset-kept.js';
export { type LoadDatasetOptions, loadDataset } from './load-dataset.js';
export { loadMnist, MNIST_CLASSES, MNIST_TEST_COUNT, MNIST_TRAIN_COUNT } from './mnist.js';
