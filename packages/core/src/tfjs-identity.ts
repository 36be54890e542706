import { engine, KernelBackend, Tensor, Variable, version_core } from '@tensorflow/tfjs-core';
import { DuplicateTfjsError, InvalidOptionError } from './errors.js';

const DEDUPE_ADVICE =
  'Install a single copy: `npm ls @tensorflow/tfjs-core` lists them; give @tensorflow/tfjs (and any other ' +
  `@tensorflow/* package) the version @mup2/core's copy has, ${version_core}, e.g. \`npm i @tensorflow/tfjs@${version_core}\`, ` +
  'then dedupe (`npm dedupe` / `pnpm dedupe`) so every package resolves the same one.';

/** Whether `value` was made by this copy's class (instanceof is duck-typed in tfjs-core, so it cannot tell). */
const madeBy = (type: abstract new (...args: never[]) => unknown, value: unknown): boolean =>
  Object.prototype.isPrototypeOf.call(type.prototype, value as object);

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
  if (!madeBy(Variable, value)) {
    // The process loaded two copies: the other one created the engine both share, so it makes every tensor.
    throw new DuplicateTfjsError(
      `${context}: variable '${value.name}' was made by a different copy of @tensorflow/tfjs-core than the one ` +
        `@mup2/core uses (ours is ${version_core}); this process has loaded two. ${DEDUPE_ADVICE}`,
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

/**
 * Throws a DuplicateTfjsError when a registered backend was built on another copy of tfjs-core: the
 * backend packages (tfjs-backend-cpu, -webgl, -wasm, tfjs-node) extend their own copy's KernelBackend.
 * This sees a second copy that shares our engine (the usual npm case: two versions installed, both
 * loaded), where tensors still look like ours.
 */
export function assertOwnBackends(context: string): void {
  for (const [name, backend] of Object.entries(engine().registry)) {
    if (!madeBy(KernelBackend, backend)) {
      throw new DuplicateTfjsError(
        `${context}: the '${name}' backend was registered by a package that uses a different copy of ` +
          `@tensorflow/tfjs-core than the one @mup2/core uses (ours is ${version_core}); this process has loaded two. ` +
          DEDUPE_ADVICE,
      );
    }
  }
}
