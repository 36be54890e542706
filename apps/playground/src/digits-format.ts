import type { DatasetSplit, ImageDataset } from '@mup2/model-zoo';

// The zoo's MNIST split (the `mnist` package's 10,000 digits, 8,000 / 2,000) as one binary the
// dev server sends to the page: a JSON header, then each split's pixels as uint16 thousandths
// (the package's values have three decimals, so this is exact and half the size of float32),
// then the labels as bytes.

/** The pixel value k / PIXEL_SCALE is stored as the integer k. */
const PIXEL_SCALE = 1000;

type Header = Omit<ImageDataset, 'train' | 'test'> & { trainCount: number; testCount: number };

export function encodeDigits(dataset: ImageDataset): Uint8Array {
  const header: Header = {
    name: dataset.name,
    imageShape: dataset.imageShape,
    classes: dataset.classes,
    normalization: dataset.normalization,
    trainCount: dataset.train.count,
    testCount: dataset.test.count,
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  // The uint16 pixels start at an even offset, so the page can view them in place.
  const pixelsStart = 4 + headerBytes.length + (headerBytes.length % 2);
  const pixelCount = dataset.train.images.length + dataset.test.images.length;
  const labelCount = dataset.train.count + dataset.test.count;
  const bytes = new Uint8Array(pixelsStart + 2 * pixelCount + labelCount);
  new DataView(bytes.buffer).setUint32(0, headerBytes.length, true);
  bytes.set(headerBytes, 4);
  const pixels = new Uint16Array(bytes.buffer, pixelsStart, pixelCount);
  let offset = 0;
  for (const split of [dataset.train, dataset.test]) {
    for (let index = 0; index < split.images.length; index++) {
      const value = split.images[index] as number;
      const stored = Math.round(value * PIXEL_SCALE);
      if (Math.fround(stored / PIXEL_SCALE) !== value) {
        throw new Error(`digits: pixel ${index} of ${dataset.name} is ${value}, not a multiple of 1/${PIXEL_SCALE}.`);
      }
      pixels[offset + index] = stored;
    }
    offset += split.images.length;
  }
  bytes.set(dataset.train.labels, pixelsStart + 2 * pixelCount);
  bytes.set(dataset.test.labels, pixelsStart + 2 * pixelCount + dataset.train.count);
  return bytes;
}

export function decodeDigits(buffer: ArrayBuffer): ImageDataset {
  const headerLength = new DataView(buffer).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, headerLength))) as Header;
  const pixelsStart = 4 + headerLength + (headerLength % 2);
  const imageSize = header.imageShape[0] * header.imageShape[1] * header.imageShape[2];
  const pixelCount = (header.trainCount + header.testCount) * imageSize;
  const pixels = new Uint16Array(buffer, pixelsStart, pixelCount);
  const labels = new Uint8Array(buffer, pixelsStart + 2 * pixelCount, header.trainCount + header.testCount);
  const split = (first: number, count: number): DatasetSplit => ({
    images: Float32Array.from(pixels.subarray(first * imageSize, (first + count) * imageSize), (k) => k / PIXEL_SCALE),
    labels: labels.slice(first, first + count),
    count,
  });
  const { trainCount, testCount, ...dataset } = header;
  return { ...dataset, train: split(0, trainCount), test: split(trainCount, testCount) };
}
