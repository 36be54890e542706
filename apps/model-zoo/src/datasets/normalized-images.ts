import type { DatasetSplit, Normalization } from './image-dataset.js';

/** (x − mean) / std for each channel of interleaved pixels [..., channels], in place. */
export function normalizeInPlace(pixels: Float32Array, normalization: Normalization, channels: number): void {
  for (let channel = 0; channel < channels; channel++) {
    const mean = normalization.mean[channel] as number;
    const std = normalization.std[channel] as number;
    for (let i = channel; i < pixels.length; i += channels) pixels[i] = ((pixels[i] as number) - mean) / std;
  }
}

const normalized = new WeakMap<
  Float32Array,
  { readonly normalization: Normalization; readonly images: Float32Array }
>();

const sameNormalization = (a: Normalization, b: Normalization) =>
  a === b ||
  (a.mean.length === b.mean.length &&
    a.mean.every((value, channel) => value === b.mean[channel] && a.std[channel] === b.std[channel]));

/**
 * A split's images as batches hold them, normalised once per images array and kept while the
 * array lives (a second copy of the split, as large as the first): a batch is then a copy of its
 * rows, not a pass of arithmetic over every pixel of every batch (0.31 → 0.10 ms for a batch of
 * 128 digits, where a small MLP's step on tensorflow takes 3–6 ms). The same values as normalising
 * each batch: the same operation on each pixel.
 */
export function normalizedImages(split: DatasetSplit, normalization: Normalization, channels: number): Float32Array {
  const found = normalized.get(split.images);
  if (found !== undefined && sameNormalization(found.normalization, normalization)) return found.images;
  const images = Float32Array.from(split.images);
  normalizeInPlace(images, normalization, channels);
  normalized.set(split.images, { normalization, images });
  return images;
}
