// Writers of small data set files in the exact binary formats, for the tests.
// They build each byte by hand from the format's description, independently of the readers.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export async function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `mup2-${prefix}-`));
}

/** An IDX file of unsigned bytes: 0x00 0x00 0x08 ndims, big-endian uint32 dims, the data. */
export function idxBytes(dims: readonly number[], data: ArrayLike<number>, magic = 0x0800 | dims.length): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  view.setUint32(0, magic, false);
  for (const [i, dim] of dims.entries()) view.setUint32(4 + 4 * i, dim, false);
  const bytes = new Uint8Array(header.length + data.length);
  bytes.set(header);
  bytes.set(Array.from(data), header.length);
  return bytes;
}

/** Pixel value of image `image` at (y, x, channel) in the fixtures: a pattern that differs per image and position. */
export function fixturePixel(image: number, y: number, x: number, channel = 0): number {
  return (image * 37 + y * 11 + x * 3 + channel * 101) % 256;
}

export interface FashionFixture {
  readonly trainCount: number;
  readonly testCount: number;
  readonly side: number;
  readonly gzip: boolean;
  /** Label of example i of a split; default i mod 10. */
  readonly label?: (i: number) => number;
}

/** Writes the four Fashion-MNIST IDX files (with .gz names when gzip is true); returns their paths by role. */
export async function writeFashionMnist(directory: string, fixture: FashionFixture) {
  const label = fixture.label ?? ((i: number) => i % 10);
  const suffix = fixture.gzip ? '.gz' : '';
  const encode = (bytes: Uint8Array) => (fixture.gzip ? gzipSync(bytes) : bytes);
  const paths = {
    trainImages: join(directory, `train-images-idx3-ubyte${suffix}`),
    trainLabels: join(directory, `train-labels-idx1-ubyte${suffix}`),
    testImages: join(directory, `t10k-images-idx3-ubyte${suffix}`),
    testLabels: join(directory, `t10k-labels-idx1-ubyte${suffix}`),
  };
  const images = (count: number, offset: number) => {
    const data: number[] = [];
    for (let i = 0; i < count; i++) {
      for (let y = 0; y < fixture.side; y++) {
        for (let x = 0; x < fixture.side; x++) data.push(fixturePixel(offset + i, y, x));
      }
    }
    return idxBytes([count, fixture.side, fixture.side], data);
  };
  const labels = (count: number) =>
    idxBytes(
      [count],
      Array.from({ length: count }, (_, i) => label(i)),
    );
  await writeFile(paths.trainImages, encode(images(fixture.trainCount, 0)));
  await writeFile(paths.trainLabels, encode(labels(fixture.trainCount)));
  await writeFile(paths.testImages, encode(images(fixture.testCount, 1000)));
  await writeFile(paths.testLabels, encode(labels(fixture.testCount)));
  return paths;
}

/** One CIFAR-10 binary batch: per record a label byte, then the R, G and B planes of 32×32 bytes. */
export function cifarBatchBytes(count: number, firstImage: number, label: (image: number) => number): Uint8Array {
  const record = 1 + 3 * 1024;
  const bytes = new Uint8Array(count * record);
  for (let i = 0; i < count; i++) {
    const image = firstImage + i;
    bytes[i * record] = label(image);
    for (let channel = 0; channel < 3; channel++) {
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          bytes[i * record + 1 + channel * 1024 + y * 32 + x] = fixturePixel(image, y, x, channel);
        }
      }
    }
  }
  return bytes;
}

/** Writes data_batch_1…5.bin with `perBatch` records each and test_batch.bin with `testCount`; image numbers run on. */
export async function writeCifar10(directory: string, perBatch: number, testCount: number, gzip = false) {
  const label = (image: number) => image % 10;
  const encode = (bytes: Uint8Array) => (gzip ? gzipSync(bytes) : bytes);
  for (let batch = 1; batch <= 5; batch++) {
    await writeFile(
      join(directory, `data_batch_${batch}.bin`),
      encode(cifarBatchBytes(perBatch, (batch - 1) * perBatch, label)),
    );
  }
  await writeFile(join(directory, 'test_batch.bin'), encode(cifarBatchBytes(testCount, 5000, label)));
}
