import type { ParamSpec } from './param-spec.js';

/**
 * For each spec built from shapes (describeParams, paramSpecs with baseShape, paramsFromBaseShapes):
 * its base shape with null for every dimension that does not grow with width, microsoft/mup's
 * savefile convention. Kept beside the spec, whose public fields hold only the multipliers, so that
 * baseShapes() can save which dimensions grow even at the base width, where every multiplier is 1.
 */
const growth = new WeakMap<ParamSpec, readonly (number | null)[]>();

/** Records which dimensions of `shape` grow (they differ between `deltaShape ?? shape` and `baseShape`); returns the spec. */
export function recordGrowth<T extends ParamSpec>(
  spec: T,
  shape: readonly number[],
  baseShape: readonly number[],
  deltaShape?: readonly number[],
): T {
  const reference = deltaShape ?? shape;
  growth.set(
    spec,
    baseShape.map((size, axis) => (reference[axis] !== size ? size : null)),
  );
  return spec;
}

/** The recorded base shape (null: a dimension that does not grow), if the spec was built from shapes. */
export function growthOf(spec: ParamSpec): readonly (number | null)[] | undefined {
  return growth.get(spec);
}
