import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixturePixel, idxBytes, makeTempDir, writeFashionMnist } from '../../fixtures/dataset-files.js';
import { DatasetError } from './dataset-error.js';
import { DEFAULT_FASHION_MNIST_DIR, loadFashionMnist } from './fashion-mnist.js';

let directory: string;
beforeEach(async () => {
  directory = await makeTempDir('fashion');
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('loadFashionMnist on files written here', () => {
  for (const gzip of [false, true]) {
    it(`reads ${gzip ? 'gzipped' : 'plain'} IDX files: pixels / 255, labels, shape`, async () => {
      await writeFashionMnist(directory, { trainCount: 12, testCount: 5, side: 28, gzip });
      const dataset = await loadFashionMnist({ dataDir: directory });
      expect(dataset.name).toBe('fashion-mnist');
      expect(dataset.imageShape).toEqual([28, 28, 1]);
      expect(dataset.classes).toBe(10);
      expect(dataset.train.count).toBe(12);
      expect(dataset.test.count).toBe(5);
      expect(dataset.train.images).toBeInstanceOf(Float32Array);
      expect(dataset.train.images.length).toBe(12 * 28 * 28);
      expect([...dataset.train.labels]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
      // Image 7 of train, pixel (y=5, x=20); image 3 of test (numbered from 1000 in the fixture).
      expect(dataset.train.images[7 * 784 + 5 * 28 + 20]).toBeCloseTo(fixturePixel(7, 5, 20) / 255, 6);
      expect(dataset.test.images[3 * 784 + 27 * 28 + 27]).toBeCloseTo(fixturePixel(1003, 27, 27) / 255, 6);
      expect(dataset.normalization).toEqual({ mean: [0.286], std: [0.353] });
    });
  }

  it('keeps the first `limit` examples of each split', async () => {
    await writeFashionMnist(directory, { trainCount: 12, testCount: 5, side: 4, gzip: true });
    const dataset = await loadFashionMnist({ dataDir: directory, limit: 3 });
    expect(dataset.imageShape).toEqual([4, 4, 1]);
    expect(dataset.train.count).toBe(3);
    expect(dataset.test.count).toBe(3);
    expect(dataset.train.images.length).toBe(3 * 16);
    expect([...dataset.test.labels]).toEqual([0, 1, 2]);
  });

  it('names every file name it looked for and the directory when a file is missing', async () => {
    const paths = await writeFashionMnist(directory, { trainCount: 2, testCount: 2, side: 4, gzip: true });
    await rm(paths.testLabels);
    const error = await loadFashionMnist({ dataDir: directory }).catch((caught: unknown) => caught);
    expect(DatasetError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      `fashion-mnist: none of t10k-labels-idx1-ubyte.gz, t10k-labels-idx1-ubyte found in ${directory}`,
    );
  });

  it('says when the data dir does not exist', async () => {
    const missing = join(directory, 'nowhere');
    await expect(loadFashionMnist({ dataDir: missing })).rejects.toThrow(
      `none of train-images-idx3-ubyte.gz, train-images-idx3-ubyte found in ${missing} (${missing}: no such directory)`,
    );
  });

  it('reports a bad magic number with the file, expected and actual value', async () => {
    const paths = await writeFashionMnist(directory, { trainCount: 2, testCount: 2, side: 4, gzip: false });
    // Labels where images belong: the classic mix-up.
    await writeFile(paths.trainImages, idxBytes([2], [1, 2]));
    await expect(loadFashionMnist({ dataDir: directory })).rejects.toThrow(
      `${paths.trainImages}: bad magic number, expected 0x00000803 (IDX unsigned bytes, 3 dimensions), got 0x00000801`,
    );
  });

  it('reports a truncated gzipped file by its size against the header', async () => {
    const paths = await writeFashionMnist(directory, { trainCount: 3, testCount: 2, side: 4, gzip: true });
    const header = idxBytes([3, 4, 4], new Uint8Array(3 * 16));
    await writeFile(paths.trainImages, gzipSync(header.subarray(0, header.length - 10)));
    await expect(loadFashionMnist({ dataDir: directory })).rejects.toThrow(
      `${paths.trainImages}: size does not match the header, which says 3×4×4 = 48 bytes after the 16-byte header; the file has 38 (truncated)`,
    );
  });

  it('reports a gzip stream that is cut off', async () => {
    const paths = await writeFashionMnist(directory, { trainCount: 3, testCount: 2, side: 4, gzip: true });
    const whole = gzipSync(idxBytes([3], [1, 2, 3]));
    await writeFile(paths.trainLabels, whole.subarray(0, whole.length - 6));
    await expect(loadFashionMnist({ dataDir: directory })).rejects.toThrow(
      `${paths.trainLabels} is not a valid gzip file`,
    );
  });

  it('reports a label out of range with its index and value', async () => {
    const paths = await writeFashionMnist(directory, {
      trainCount: 4,
      testCount: 2,
      side: 4,
      gzip: false,
      label: (i) => (i === 2 ? 10 : i),
    });
    await expect(loadFashionMnist({ dataDir: directory })).rejects.toThrow(
      `${paths.trainLabels}: label out of range at index 2: 10, expected 0…9`,
    );
  });

  it('reports labels and images that disagree in count', async () => {
    const paths = await writeFashionMnist(directory, { trainCount: 4, testCount: 2, side: 4, gzip: false });
    await writeFile(paths.testLabels, idxBytes([3], [0, 1, 2]));
    await expect(loadFashionMnist({ dataDir: directory })).rejects.toThrow(
      `${paths.testLabels}: 3 labels for the 2 images of ${paths.testImages}`,
    );
  });
});

// .ci/run installs Debian's dataset-fashion-mnist; without it this test fails with the loader's own
// error, which names the folder and the files it looked for.
describe(`Fashion-MNIST as Debian installs it in ${DEFAULT_FASHION_MNIST_DIR}`, () => {
  it('loads 60,000 + 10,000 images of 28×28, 6,000 / 1,000 per class, matching the normalisation constants', async () => {
    const dataset = await loadFashionMnist();
    expect(dataset.train.count).toBe(60_000);
    expect(dataset.test.count).toBe(10_000);
    expect(dataset.imageShape).toEqual([28, 28, 1]);
    const perClass = (labels: ArrayLike<number>) => {
      const counts = new Array<number>(10).fill(0);
      for (let i = 0; i < labels.length; i++) counts[labels[i]!]!++;
      return counts;
    };
    // Zalando's data set is balanced by construction.
    expect(perClass(dataset.train.labels)).toEqual(new Array(10).fill(6000));
    expect(perClass(dataset.test.labels)).toEqual(new Array(10).fill(1000));
    let sum = 0;
    let sumSquares = 0;
    for (const value of dataset.train.images) {
      sum += value;
      sumSquares += value * value;
    }
    const mean = sum / dataset.train.images.length;
    const std = Math.sqrt(sumSquares / dataset.train.images.length - mean * mean);
    expect(mean).toBeCloseTo(dataset.normalization.mean[0]!, 3);
    expect(std).toBeCloseTo(dataset.normalization.std[0]!, 3);
  });
});
