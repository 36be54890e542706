import { dirname, join } from 'node:path';
import { InvalidOptionError } from '@mup2/core';
import { DatasetError } from './dataset-error.js';
import { findDatasetFile, readDatasetFile } from './dataset-file.js';
import type { DatasetSplit, ImageDataset } from './image-dataset.js';
import { type DatasetLoadOptions, limitedCount, splitLimits } from './load-options.js';
import { DATASET_NORMALIZATION } from './normalization.js';

export const CIFAR10_CLASSES = 10;
const SIDE = 32;
const PLANE = SIDE * SIDE;
const CHANNELS = 3;
/** One label byte, then the red, green and blue planes of 32×32 bytes each. */
export const CIFAR10_RECORD_BYTES = 1 + CHANNELS * PLANE;

export const CIFAR10_TRAIN_FILES = [
  'data_batch_1.bin',
  'data_batch_2.bin',
  'data_batch_3.bin',
  'data_batch_4.bin',
  'data_batch_5.bin',
];
export const CIFAR10_TEST_FILES = ['test_batch.bin'];
/** Records in each of the official batch files. */
export const CIFAR10_BATCH_RECORDS = 10_000;
/** The folder the official "binary version" tarball unpacks to. */
const ARCHIVE_FOLDER = 'cifar-10-batches-bin';

/** Checks a batch file's size, record count and labels; returns how many records it holds. */
function recordCount(bytes: Uint8Array, file: string, expected: number | null): number {
  if (bytes.length % CIFAR10_RECORD_BYTES !== 0) {
    const whole = Math.floor(bytes.length / CIFAR10_RECORD_BYTES);
    throw new DatasetError(
      `${file}: record count is not a whole number: ${bytes.length} bytes is ${whole} whole record${whole === 1 ? '' : 's'} of ` +
        `${CIFAR10_RECORD_BYTES} bytes plus ${bytes.length % CIFAR10_RECORD_BYTES} bytes (truncated or not a CIFAR-10 binary batch)`,
      { file },
    );
  }
  const count = bytes.length / CIFAR10_RECORD_BYTES;
  if (count === 0) {
    throw new DatasetError(
      `${file}: the file is empty (0 bytes), expected CIFAR-10 records of ${CIFAR10_RECORD_BYTES} bytes`,
      {
        file,
      },
    );
  }
  if (expected !== null && count !== expected) {
    throw new DatasetError(
      `${file}: ${count.toLocaleString('en-US')} record${count === 1 ? '' : 's'}, expected ${expected.toLocaleString('en-US')} per batch file ` +
        `(cut short at a record boundary, or a subset: give its size as cifar10BatchRecords / --cifar10-batch-records)`,
      { file },
    );
  }
  for (let record = 0; record < count; record++) {
    const label = bytes[record * CIFAR10_RECORD_BYTES]!;
    if (label >= CIFAR10_CLASSES) {
      throw new DatasetError(
        `${file}: label out of range in record ${record}: ${label}, expected 0…${CIFAR10_CLASSES - 1} ` +
          '(a CIFAR-100 file, or not a CIFAR-10 binary batch?)',
        { file },
      );
    }
  }
  return count;
}

async function loadSplit(
  directory: string,
  names: string[],
  limit: number | undefined,
  expected: number | null,
): Promise<DatasetSplit> {
  const batches: { bytes: Uint8Array; count: number }[] = [];
  for (const name of names) {
    const file = await findDatasetFile([directory], [name], 'cifar10');
    const bytes = await readDatasetFile(file);
    batches.push({ bytes, count: recordCount(bytes, file, expected) });
  }
  const count = limitedCount(
    batches.reduce((total, batch) => total + batch.count, 0),
    limit,
  );
  const images = new Float32Array(count * PLANE * CHANNELS);
  const labels = new Uint8Array(count);
  let example = 0;
  for (const { bytes, count: batchCount } of batches) {
    for (let record = 0; record < batchCount && example < count; record++, example++) {
      const start = record * CIFAR10_RECORD_BYTES;
      labels[example] = bytes[start]!;
      // The file stores channel planes (CHW); TF.js convolutions want channels last (HWC).
      const out = example * PLANE * CHANNELS;
      for (let pixel = 0; pixel < PLANE; pixel++) {
        for (let channel = 0; channel < CHANNELS; channel++) {
          images[out + pixel * CHANNELS + channel] = bytes[start + 1 + channel * PLANE + pixel]! / 255;
        }
      }
    }
  }
  return { images, labels, count };
}

/**
 * CIFAR-10 from its binary batches (data_batch_1…5.bin, test_batch.bin) in
 * `dataDir` or its cifar-10-batches-bin subfolder: 50,000 train and 10,000 test
 * images of 32×32×3. Each file must hold 10,000 whole records (or
 * `cifar10BatchRecords`), so a file cut short at a record boundary is an error,
 * not a smaller data set. There is no default directory: Debian does not package CIFAR-10.
 */
export async function loadCifar10(options: DatasetLoadOptions = {}): Promise<ImageDataset> {
  if (options.dataDir === undefined) {
    throw new DatasetError(
      `cifar10: no data dir given; pass the folder holding ${[...CIFAR10_TRAIN_FILES, ...CIFAR10_TEST_FILES].join(', ')}`,
    );
  }
  // The folder holding any batch file is the one; all six must then be in it, not spread over both.
  const allFiles = [...CIFAR10_TRAIN_FILES, ...CIFAR10_TEST_FILES];
  const candidates = [options.dataDir, join(options.dataDir, ARCHIVE_FOLDER)];
  const directory = dirname(await findDatasetFile(candidates, allFiles, 'cifar10'));
  const limits = splitLimits(options);
  const expected = options.cifar10BatchRecords === undefined ? CIFAR10_BATCH_RECORDS : options.cifar10BatchRecords;
  if (expected !== null && !(Number.isSafeInteger(expected) && expected > 0)) {
    throw new InvalidOptionError(`cifar10BatchRecords must be a positive integer or null, got ${expected}.`);
  }
  const train = await loadSplit(directory, CIFAR10_TRAIN_FILES, limits.train, expected);
  const test = await loadSplit(directory, CIFAR10_TEST_FILES, limits.test, expected);
  return {
    name: 'cifar10',
    train,
    test,
    imageShape: [SIDE, SIDE, CHANNELS],
    classes: CIFAR10_CLASSES,
    normalization: DATASET_NORMALIZATION.cifar10,
  };
}
