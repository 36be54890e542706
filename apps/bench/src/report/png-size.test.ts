import { describe, expect, it } from 'vitest';
import { pngSize } from './png-size.js';

describe('pngSize', () => {
  it('reads width and height from the IHDR chunk', () => {
    // Signature, IHDR length 13, 'IHDR', width 0x0102 = 258, height 0x00010000 = 65536, then the rest of IHDR.
    const header = Uint8Array.from([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 1, 2, 0, 1, 0, 0, 8, 6,
      0, 0, 0,
    ]);
    expect(pngSize(header)).toEqual({ width: 258, height: 65536 });
  });

  it('rejects what is not a PNG', () => {
    expect(() => pngSize(new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"></svg>'))).toThrow(
      /not a PNG/,
    );
    expect(() => pngSize(new Uint8Array(4))).toThrow(/not a PNG/);
  });
});
