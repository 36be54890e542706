import { Tensor, version_core } from '@tensorflow/tfjs-core';
import { DuplicateTfjsError, InvalidOptionError } from './errors.js';

/**
 * Two copies of @tensorflow/tfjs-core in one process register kernels and
 * classes twice and break `instanceof`, with errors far from the cause.
 * A tensor that looks like a tensor but is not one of ours comes from another copy.
 */
export function assertOwnTfjsCopy(value: unknown, context: string): void {
  if (value instanceof Tensor) return;
  const looksLikeTensor =
    typeof value === 'object' && value !== null && 'dataId' in value && 'shape' in value && 'dtype' in value;
  if (looksLikeTensor) {
    throw new DuplicateTfjsError(
      `${context}: got a tensor from a different copy of @tensorflow/tfjs-core than the one @mup2/core uses ` +
        `(ours is ${version_core}). Install a single copy: dedupe @tensorflow/tfjs-core in your lockfile ` +
        '(`pnpm dedupe` / `npm dedupe`) so every package resolves the same one.',
    );
  }
  throw new InvalidOptionError(`${context}: expected a tf.Variable, got ${describe(value)}.`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object of type ${value.constructor?.name ?? 'Object'}`;
  return `${typeof value} ${String(value)}`;
}
