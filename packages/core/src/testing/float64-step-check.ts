import { FLOAT64_MLP_NAMES, type Float64MlpName, type Float64MlpParams, seededRandom } from './float64-mlp.js';

/** A seeded classification batch for the float64 MLP: inputs uniform in [−1, 1), integer labels. */
export function float64Batch(
  seed: number,
  shape: { batch: number; inputSize: number; classes: number },
): { x: Float64Array; labels: number[] } {
  const uniform = seededRandom(seed);
  const x = Float64Array.from({ length: shape.batch * shape.inputSize }, () => uniform() * 2 - 1);
  const labels = Array.from({ length: shape.batch }, () => Math.floor(uniform() * shape.classes));
  return { x, labels };
}

/** How far a float32 step is from the float64 one, for one parameter. */
export interface UpdateError {
  /** The largest |expected update| of the parameter (0: the reference does not move it). */
  readonly scale: number;
  /** The largest |actual update − expected update|, relative to `scale`. */
  readonly relativeError: number;
}

/**
 * How far a step's update (actual − start) is from a reference update
 * (expected − start), per parameter: the largest entry error relative to the
 * largest reference update. Comparing updates, not weights, keeps a float32 step
 * from passing just because the weights barely moved.
 */
export function updateErrors(
  start: Float64MlpParams,
  actual: Float64MlpParams,
  expected: Float64MlpParams,
): Record<Float64MlpName, UpdateError> {
  const errors = {} as Record<Float64MlpName, UpdateError>;
  for (const name of FLOAT64_MLP_NAMES) {
    let scale = 0;
    let worst = 0;
    start[name].forEach((initial, i) => {
      const expectedUpdate = (expected[name][i] as number) - initial;
      const actualUpdate = (actual[name][i] as number) - initial;
      scale = Math.max(scale, Math.abs(expectedUpdate));
      worst = Math.max(worst, Math.abs(actualUpdate - expectedUpdate));
    });
    errors[name] = { scale, relativeError: worst / scale };
  }
  return errors;
}
