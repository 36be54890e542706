import { describe, expect, it } from 'vitest';
import { drawCropFlip, writeCropFlipped } from './augmentation.js';
import { seededRandom } from './seeded-random.js';

// A 6×5 image with 2 channels whose value says where it came from: 1 + 100·y + 10·x + channel (never 0).
const height = 6;
const width = 5;
const channels = 2;
const shape = [height, width, channels] as const;
const source = new Float32Array(height * width * channels);
for (let y = 0; y < height; y++) {
  for (let x = 0; x < width; x++) {
    for (let c = 0; c < channels; c++) source[(y * width + x) * channels + c] = 1 + 100 * y + 10 * x + c;
  }
}
const valueAt = (image: Float32Array, y: number, x: number, c: number) => image[(y * width + x) * channels + c]!;

function apply(top: number, left: number, flip: boolean, padding = 2): Float32Array {
  const target = new Float32Array(source.length + 3).fill(-1);
  writeCropFlipped(source, 0, shape, { top, left, flip }, target, 3, padding);
  expect([...target.subarray(0, 3)]).toEqual([-1, -1, -1]); // nothing written before its offset
  return target.subarray(3);
}

describe('writeCropFlipped', () => {
  it('is the identity for the centred crop without flip', () => {
    expect(apply(2, 2, false)).toEqual(source);
  });

  it('shifts the content by (padding − top, padding − left), filling with black', () => {
    const out = apply(0, 4, false); // window starts 2 above and 2 right of the image: content moves down 2, left 2
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const fromY = y - 2;
        const fromX = x + 2;
        const inside = fromY >= 0 && fromX < width;
        for (let c = 0; c < channels; c++) {
          expect(valueAt(out, y, x, c)).toBe(inside ? 1 + 100 * fromY + 10 * fromX + c : 0);
        }
      }
    }
  });

  it('mirrors left–right, keeping channels in place', () => {
    const out = apply(2, 2, true);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        for (let c = 0; c < channels; c++) expect(valueAt(out, y, x, c)).toBe(1 + 100 * y + 10 * (width - 1 - x) + c);
      }
    }
  });

  it('reads the source image at its offset', () => {
    const twoImages = new Float32Array(2 * source.length);
    twoImages.set(source, source.length);
    const target = new Float32Array(source.length);
    writeCropFlipped(twoImages, source.length, shape, { top: 4, left: 4, flip: false }, target, 0, 4);
    expect(target).toEqual(source);
  });
});

describe('drawCropFlip', () => {
  it('draws every offset 0…2·padding and both flips, the same for the same seed', () => {
    const random = seededRandom(5);
    const draws = Array.from({ length: 2000 }, () => drawCropFlip(random));
    expect(new Set(draws.map((draw) => draw.top))).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8]));
    expect(new Set(draws.map((draw) => draw.left))).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8]));
    const flips = draws.filter((draw) => draw.flip).length;
    expect(Math.abs(flips - 1000)).toBeLessThan(120); // ~5 standard deviations of Binomial(2000, 1/2)
    const again = seededRandom(5);
    expect(Array.from({ length: 2000 }, () => drawCropFlip(again))).toEqual(draws);
  });
});
