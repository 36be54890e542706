import type { UniformRandom } from './seeded-random.js';

/** The CIFAR recipe of the SAM and µP² papers: pad by 4, crop back at random, flip half the images. */
export const CROP_PADDING = 4;

/** How one image is augmented: where the crop window starts in the padded image, and whether to mirror it. */
export interface CropFlip {
  readonly top: number;
  readonly left: number;
  readonly flip: boolean;
}

/** Draws a crop offset in 0…2·padding (each equally likely, as torchvision's RandomCrop) and a fair flip. */
export function drawCropFlip(random: UniformRandom, padding = CROP_PADDING): CropFlip {
  const top = Math.floor(random() * (2 * padding + 1));
  const left = Math.floor(random() * (2 * padding + 1));
  return { top, left, flip: random() < 0.5 };
}

/**
 * Writes image `source` (HWC, at `sourceOffset`) cropped and flipped by
 * `cropFlip` to `target` at `targetOffset`. Pixels from the padding are 0
 * (black), since padding happens before normalisation.
 */
export function writeCropFlipped(
  source: Float32Array,
  sourceOffset: number,
  shape: readonly [number, number, number],
  cropFlip: CropFlip,
  target: Float32Array,
  targetOffset: number,
  padding = CROP_PADDING,
): void {
  const [height, width, channels] = shape;
  for (let y = 0; y < height; y++) {
    const sourceY = y + cropFlip.top - padding;
    for (let x = 0; x < width; x++) {
      const croppedX = cropFlip.flip ? width - 1 - x : x;
      const sourceX = croppedX + cropFlip.left - padding;
      const out = targetOffset + (y * width + x) * channels;
      const inside = sourceY >= 0 && sourceY < height && sourceX >= 0 && sourceX < width;
      const from = sourceOffset + (sourceY * width + sourceX) * channels;
      for (let channel = 0; channel < channels; channel++) {
        target[out + channel] = inside ? source[from + channel]! : 0;
      }
    }
  }
}
