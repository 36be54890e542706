import { engine, Tensor, Variable, version_core } from '@tensorflow/tfjs-core';
import { DuplicateTfjsError, InvalidOptionError } from './errors.js';

const DEDUPE_ADVICE =
  'Install a single copy: dedupe @tensorflow/tfjs-core in your lockfile ' +
  '(`pnpm dedupe` / `npm dedupe`) so every package resolves the same one.';

/**
 * Two copies of @tensorflow/tfjs-core in one process register kernels and
 * classes twice and break `instanceof`, with errors far from the cause.
 * tfjs-core's own `instanceof` is duck-typed (Symbol.hasInstance), so a variable
 * of a copy with its own engine passes it and then fails deep inside
 * variableGrads ("Cannot read properties of undefined (reading 'backend')").
 * What tells it apart: our engine does not know it. A copy that shares our
 * engine (same version, global engine slot) registers its variables with us and works.
 */
export function assertOwnTfjsCopy(value: unknown, context: string): void {
  if (!(value instanceof Tensor)) {
    const looksLikeTensor =
      typeof value === 'object' && value !== null && 'dataId' in value && 'shape' in value && 'dtype' in value;
    if (looksLikeTensor) {
      throw new DuplicateTfjsError(
        `${context}: got a tensor from a different copy of @tensorflow/tfjs-core than the one @mup2/core uses ` +
          `(ours is ${version_core}). ${DEDUPE_ADVICE}`,
      );
    }
    throw new InvalidOptionError(`${context}: expected a tf.Variable, got ${describe(value)}.`);
  }
  if (!(value instanceof Variable)) {
    throw new InvalidOptionError(
      `${context}: expected a tf.Variable, got a tf.Tensor of shape [${value.shape.join(', ')}] ` +
        '(make it trainable state with tf.variable(tensor)).',
    );
  }
  // A disposed variable leaves the registry; the caller reports it as disposed.
  if (value.isDisposed) return;
  if (engine().registeredVariables[value.name] !== value) {
    throw new DuplicateTfjsError(
      `${context}: variable '${value.name}' belongs to a different copy of @tensorflow/tfjs-core than the one ` +
        `@mup2/core uses (ours is ${version_core}; its engine does not know this variable). ${DEDUPE_ADVICE}`,
    );
  }
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return `an object of type ${value.constructor?.name ?? 'Object'}`;
  return `${typeof value} ${String(value)}`;
}
