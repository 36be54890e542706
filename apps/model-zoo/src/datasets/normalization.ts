import type { DatasetName, Normalization } from './image-dataset.js';

/**
 * Mean and std of each data set's full training set, pixels scaled to [0, 1]
 * (the constants the literature uses, so results compare with it):
 * - mnist: the 60,000 MNIST training digits; the 10,000 digits of the `mnist`
 *   package measure 0.1311 / 0.3087, close enough that we keep the standard values.
 * - fashion-mnist: 0.2860 / 0.3530, measured on the 60,000 training images
 *   (the test in fashion-mnist.test.ts re-measures them on the installed files).
 * - cifar10: per channel R, G, B over the 50,000 training images. The std is the
 *   std over all pixels (0.2470, 0.2435, 0.2616), not the often copied
 *   (0.2023, 0.1994, 0.2010), which is a mean of per-image stds.
 */
export const DATASET_NORMALIZATION: Record<DatasetName, Normalization> = {
  mnist: { mean: [0.1307], std: [0.3081] },
  'fashion-mnist': { mean: [0.286], std: [0.353] },
  cifar10: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
};
