import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError } from './errors.js';

/**
 * The number of examples of a batch given to SamOptimizer: the common first dimension of its
 * tensors. With `allowNull`, null entries (tfjs-layers' absent sample weights) are passed over.
 */
export function batchSize(inputs: readonly (tf.Tensor | null)[], method: string, allowNull = false): number {
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw new InvalidOptionError(`SamOptimizer.${method}: expected a non-empty list of tensors, e.g. [x, y].`);
  }
  inputs.forEach((tensor, index) => {
    if (allowNull && tensor == null) return;
    if (!(tensor instanceof tf.Tensor) || tensor.rank < 1 || tensor.isDisposed) {
      throw new InvalidOptionError(
        `SamOptimizer.${method}: input ${index} is not a live tensor of rank >= 1 (batch along axis 0), got ${String(tensor)}.`,
      );
    }
  });
  const present = inputs.filter((tensor): tensor is tf.Tensor => tensor != null);
  if (present.length === 0) {
    throw new InvalidOptionError(`SamOptimizer.${method}: expected a non-empty list of tensors, e.g. [x, y].`);
  }
  const size = present[0]?.shape[0] as number;
  const other = inputs.findIndex((tensor) => tensor != null && tensor.shape[0] !== size);
  if (other >= 0) {
    throw new InvalidOptionError(
      `SamOptimizer.${method}: inputs hold different numbers of examples (${size} in input 0, ` +
        `${inputs[other]?.shape[0]} in input ${other}); expected one batch along axis 0.`,
    );
  }
  if (size < 1) throw new InvalidOptionError(`SamOptimizer.${method}: the batch is empty.`);
  return size;
}

/** The chunks of m-sharpness: consecutive ranges of `chunkSize` examples, the last one shorter if need be. */
export function chunkRanges(size: number, chunkSize: number): Array<{ start: number; count: number }> {
  const ranges: Array<{ start: number; count: number }> = [];
  for (let start = 0; start < size; start += chunkSize)
    ranges.push({ start, count: Math.min(chunkSize, size - start) });
  return ranges;
}
