import { DatasetError } from './dataset-error.js';

/** IDX data type code of unsigned bytes, the only type MNIST-style files use. */
const IDX_UNSIGNED_BYTE = 0x08;

/** An IDX array of unsigned bytes: its dimensions and its values in row-major order. */
export interface IdxArray {
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}

const hex = (value: number) => `0x${value.toString(16).padStart(8, '0')}`;

/**
 * Reads an IDX file of unsigned bytes with `dimCount` dimensions (LeCun's MNIST
 * format: 0x00 0x00, a type code, a dimension count, then each dimension as a
 * big-endian uint32, then the data). The magic number is checked whole, so a
 * labels file passed as images (0x00000801 for 0x00000803) is caught here.
 * The format is a DataView's work; npm has no maintained IDX reader to depend on.
 */
export function parseIdx(bytes: Uint8Array, dimCount: number, file: string): IdxArray {
  const expectedMagic = (IDX_UNSIGNED_BYTE << 8) | dimCount;
  if (bytes.length < 4) {
    throw new DatasetError(`${file}: ${bytes.length} bytes is too short for an IDX header`, { file });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== expectedMagic) {
    throw new DatasetError(
      `${file}: bad magic number, expected ${hex(expectedMagic)} (IDX unsigned bytes, ${dimCount} dimensions), got ${hex(magic)}`,
      { file },
    );
  }
  const headerBytes = 4 + 4 * dimCount;
  if (bytes.length < headerBytes) {
    throw new DatasetError(
      `${file}: truncated header, ${dimCount} dimensions need ${headerBytes} bytes, the file has ${bytes.length}`,
      { file },
    );
  }
  const dims = Array.from({ length: dimCount }, (_, i) => view.getUint32(4 + 4 * i, false));
  const dataBytes = dims.reduce((product, dim) => product * dim, 1);
  const actualDataBytes = bytes.length - headerBytes;
  if (actualDataBytes !== dataBytes) {
    throw new DatasetError(
      `${file}: size does not match the header, which says ${dims.join('×')} = ${dataBytes} bytes after the ` +
        `${headerBytes}-byte header; the file has ${actualDataBytes} (${actualDataBytes < dataBytes ? 'truncated' : 'trailing bytes'})`,
      { file },
    );
  }
  return { dims, data: bytes.subarray(headerBytes) };
}
