import { loadMnist } from '@mup2/model-zoo';
import { describe, expect, it } from 'vitest';
import { decodeDigits, encodeDigits } from './digits-format.js';

describe('the digits the dev server sends to the page', () => {
  it("decode to the zoo's MNIST split exactly: every pixel, label and count", async () => {
    const dataset = await loadMnist();
    const bytes = encodeDigits(dataset);
    // uint16 pixels: half of float32's 4 bytes per pixel.
    expect(bytes.length).toBeLessThan(2.01 * 10_000 * 784);
    const decoded = decodeDigits(bytes.slice().buffer);
    expect(decoded.train.count).toBe(8000);
    expect(decoded.test.count).toBe(2000);
    for (const split of ['train', 'test'] as const) {
      // Counted in a loop: vitest's deep equality takes minutes on 6 million floats.
      const differing = (a: ArrayLike<number>, b: ArrayLike<number>) => {
        let count = Math.abs(a.length - b.length);
        for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) count += 1;
        return count;
      };
      expect(decoded[split].images.length).toBe(dataset[split].images.length);
      expect(differing(decoded[split].images, dataset[split].images), `${split} pixels that differ`).toBe(0);
      expect(differing(decoded[split].labels, dataset[split].labels), `${split} labels that differ`).toBe(0);
    }
    expect({ ...decoded, train: undefined, test: undefined }).toEqual({
      ...dataset,
      train: undefined,
      test: undefined,
    });
  });

  it('refuses a pixel the format cannot hold exactly, naming it', () => {
    const image = new Float32Array(4).fill(0.5);
    image[2] = 0.12345;
    const split = { images: image, labels: new Uint8Array([1]), count: 1 };
    const dataset = {
      name: 'mnist' as const,
      train: split,
      test: { images: new Float32Array(0), labels: new Uint8Array(0), count: 0 },
      imageShape: [2, 2, 1] as const,
      classes: 10,
      normalization: { mean: [0], std: [1] },
    };
    expect(() => encodeDigits(dataset)).toThrowError(/pixel 2 of mnist is 0\.123\d*, not a multiple of 1\/1000/);
  });
});
