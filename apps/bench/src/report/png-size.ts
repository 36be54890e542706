const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Width and height of a PNG from its IHDR chunk, which the format puts first, right after the signature. */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const isPng = png.length >= 24 && PNG_SIGNATURE.every((byte, index) => png[index] === byte);
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  if (!isPng || String.fromCharCode(...png.subarray(12, 16)) !== 'IHDR') {
    throw new Error('not a PNG: no signature and IHDR chunk at the start');
  }
  return { width: view.getUint32(16), height: view.getUint32(20) };
}
