import { Mup2Error } from '@mup2/core';
import { describe, expect, it } from 'vitest';
import { idxBytes } from '../../fixtures/dataset-files.js';
import { DatasetError } from './dataset-error.js';
import { parseIdx } from './idx-file.js';

describe('parseIdx', () => {
  it('reads the dimensions big-endian and the data after the header', () => {
    // 2 images of 3×2 = 12 bytes; dimension 258 = 0x00000102 checks the byte order.
    const parsed = parseIdx(idxBytes([2, 3, 2], [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]), 3, 'f');
    expect(parsed.dims).toEqual([2, 3, 2]);
    expect([...parsed.data]).toEqual([0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
    expect(parseIdx(idxBytes([258], new Uint8Array(258)), 1, 'f').dims).toEqual([258]);
  });

  it('names the file and the expected and actual magic number', () => {
    const labels = idxBytes([3], [1, 2, 3]);
    let error: unknown;
    try {
      parseIdx(labels, 3, '/data/train-images-idx3-ubyte');
    } catch (caught) {
      error = caught;
    }
    expect(DatasetError.isInstance(error)).toBe(true);
    expect(Mup2Error.isInstance(error)).toBe(true);
    expect((error as DatasetError).file).toBe('/data/train-images-idx3-ubyte');
    expect((error as Error).message).toMatch(
      /\/data\/train-images-idx3-ubyte: bad magic number, expected 0x00000803 .* got 0x00000801/,
    );
  });

  it('rejects a non-byte type code, as in an IDX file of floats', () => {
    expect(() => parseIdx(idxBytes([1], [0, 0, 0, 0], 0x0d01), 1, 'floats')).toThrow(
      /floats: bad magic number, expected 0x00000801 .* got 0x00000d01/,
    );
  });

  it('reports a file shorter than its header', () => {
    expect(() => parseIdx(new Uint8Array([0, 0]), 1, 'tiny')).toThrow(/tiny: 2 bytes is too short/);
    expect(() => parseIdx(idxBytes([5, 28, 28], []).subarray(0, 10), 3, 'cut')).toThrow(
      /cut: truncated header, 3 dimensions need 16 bytes, the file has 10/,
    );
  });

  it('reports data that does not match the header, truncated or with trailing bytes', () => {
    const whole = idxBytes([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    expect(() => parseIdx(whole.subarray(0, whole.length - 3), 3, 'short')).toThrow(
      /short: size does not match the header, which says 2×2×2 = 8 bytes after the 16-byte header; the file has 5 \(truncated\)/,
    );
    const longer = new Uint8Array(whole.length + 1);
    longer.set(whole);
    expect(() => parseIdx(longer, 3, 'long')).toThrow(/long: size does not match .* the file has 9 \(trailing bytes\)/);
  });
});
