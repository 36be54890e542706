import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cifarBatchBytes, fixturePixel, makeTempDir, writeCifar10 } from '../../fixtures/dataset-files.js';
import { CIFAR10_TEST_FILES, CIFAR10_TRAIN_FILES, loadCifar10 } from './cifar10.js';
import { DatasetError } from './dataset-error.js';

let directory: string;
beforeEach(async () => {
  directory = await makeTempDir('cifar');
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** Value the loader must give image `image` at (y, x, channel), written by the fixture as a byte. */
const expected = (image: number, y: number, x: number, channel: number) => fixturePixel(image, y, x, channel) / 255;
const at = (images: Float32Array, index: number, y: number, x: number, channel: number) =>
  images[((index * 32 + y) * 32 + x) * 3 + channel]!;

describe('loadCifar10', () => {
  it('reads the five train batches in order and the test batch, planes (CHW) into NHWC', async () => {
    await writeCifar10(directory, 3, 4);
    const dataset = await loadCifar10({ dataDir: directory, cifar10BatchRecords: null });
    expect(dataset.name).toBe('cifar10');
    expect(dataset.imageShape).toEqual([32, 32, 3]);
    expect(dataset.classes).toBe(10);
    expect(dataset.train.count).toBe(15);
    expect(dataset.test.count).toBe(4);
    expect(dataset.train.images.length).toBe(15 * 3072);
    // Fixture image numbers: train 0…14 (batch b holds 3(b−1)…3b−1), test 5000…5003; label = number mod 10.
    expect([...dataset.train.labels]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4]);
    expect([...dataset.test.labels]).toEqual([0, 1, 2, 3]);
    for (const [index, y, x, channel] of [
      [0, 0, 0, 0],
      [4, 7, 30, 1],
      [9, 31, 0, 2],
      [14, 31, 31, 2],
    ] as const) {
      expect(at(dataset.train.images, index, y, x, channel)).toBeCloseTo(expected(index, y, x, channel), 6);
    }
    expect(at(dataset.test.images, 2, 16, 5, 1)).toBeCloseTo(expected(5002, 16, 5, 1), 6);
    expect(dataset.normalization.mean).toHaveLength(3);
  });

  it('finds the files in the cifar-10-batches-bin folder of the data dir, gzipped too, and applies limit', async () => {
    const inner = join(directory, 'cifar-10-batches-bin');
    await mkdir(inner);
    await writeCifar10(inner, 2, 3, true);
    const dataset = await loadCifar10({ dataDir: directory, limit: 5, cifar10BatchRecords: null });
    expect(dataset.train.count).toBe(5);
    expect(dataset.test.count).toBe(3);
    expect(dataset.train.images.length).toBe(5 * 3072);
    expect(at(dataset.train.images, 4, 3, 2, 1)).toBeCloseTo(expected(4, 3, 2, 1), 6);
  });

  it('reports a record count that is not a whole number', async () => {
    await writeCifar10(directory, 2, 2);
    const file = join(directory, 'data_batch_3.bin');
    await writeFile(file, cifarBatchBytes(2, 0, () => 1).subarray(0, 2 * 3073 - 100));
    await expect(loadCifar10({ dataDir: directory, cifar10BatchRecords: 2 })).rejects.toThrow(
      `${file}: record count is not a whole number: 6046 bytes is 1 whole record of 3073 bytes plus 2973 bytes`,
    );
  });

  it('reports a label out of range with the record', async () => {
    await writeCifar10(directory, 2, 3);
    const file = join(directory, 'test_batch.bin');
    await writeFile(
      file,
      cifarBatchBytes(3, 0, (image) => (image === 1 ? 57 : 0)),
    );
    await expect(loadCifar10({ dataDir: directory, cifar10BatchRecords: null })).rejects.toThrow(
      `${file}: label out of range in record 1: 57, expected 0…9`,
    );
  });

  it('names the missing batch and the folder it was looked for in', async () => {
    await writeCifar10(directory, 1, 1);
    await rm(join(directory, 'data_batch_4.bin'));
    const error = await loadCifar10({ dataDir: directory, cifar10BatchRecords: 1 }).catch((caught: unknown) => caught);
    expect(DatasetError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(`cifar10: none of data_batch_4.bin found in ${directory}`);
  });

  it('lists all six file names and both folders for a data dir without CIFAR-10', async () => {
    await expect(loadCifar10({ dataDir: directory })).rejects.toThrow(
      `cifar10: none of data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin, ` +
        `test_batch.bin found in ${directory} or ${join(directory, 'cifar-10-batches-bin')}`,
    );
  });

  it('expects 10,000 records per batch file unless told otherwise, so a batch cut at a record boundary is an error', async () => {
    await writeCifar10(directory, 2, 2);
    await expect(loadCifar10({ dataDir: directory })).rejects.toThrow(
      `${join(directory, 'data_batch_1.bin')}: 2 records, expected 10,000 per batch file ` +
        '(cut short at a record boundary, or a subset: give its size as cifar10BatchRecords / --cifar10-batch-records)',
    );
    expect((await loadCifar10({ dataDir: directory, cifar10BatchRecords: 2 })).train.count).toBe(10);
    // Batch 3 of a 2-record set cut after its first record.
    const cut = join(directory, 'data_batch_3.bin');
    await writeFile(
      cut,
      cifarBatchBytes(1, 4, () => 0),
    );
    await expect(loadCifar10({ dataDir: directory, cifar10BatchRecords: 2 })).rejects.toThrow(
      `${cut}: 1 record, expected 2 per batch file`,
    );
    await expect(loadCifar10({ dataDir: directory, cifar10BatchRecords: 0 })).rejects.toThrow(
      'cifar10BatchRecords must be a positive integer or null, got 0.',
    );
  });

  it('names an empty batch file, whatever count is expected', async () => {
    await writeCifar10(directory, 2, 2);
    const empty = join(directory, 'data_batch_2.bin');
    await writeFile(empty, new Uint8Array(0));
    for (const cifar10BatchRecords of [2, null]) {
      await expect(loadCifar10({ dataDir: directory, cifar10BatchRecords })).rejects.toThrow(
        `${empty}: the file is empty (0 bytes), expected CIFAR-10 records of 3073 bytes`,
      );
    }
    // All six empty: the first is named (not "batch 50 is larger than the 0 training examples" later).
    for (const name of [...CIFAR10_TRAIN_FILES, ...CIFAR10_TEST_FILES]) await writeFile(join(directory, name), '');
    await expect(loadCifar10({ dataDir: directory })).rejects.toThrow(
      `${join(directory, 'data_batch_1.bin')}: the file is empty (0 bytes)`,
    );
  });

  it('asks for a data dir when none is given', async () => {
    await expect(loadCifar10()).rejects.toThrow(/cifar10: no data dir given/);
  });
});
