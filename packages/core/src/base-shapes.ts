import type { Variable } from '@tensorflow/tfjs-core';
import type { LayerLike } from './describe-params.js';
import { InvalidOptionError, ShapeMismatchError } from './errors.js';
import { assertUsableVariable, type ParamSpec, roleFromShapes } from './param-spec.js';
import { growthOf, recordGrowth } from './spec-growth.js';

/** The key under which attachBaseShapes keeps the base shapes in a tfjs-layers model's user-defined metadata. */
export const BASE_SHAPES_METADATA_KEY = 'mup2BaseShapes';

/** One weight's entry: its shape when saved, and its base shape with null for each dimension that does not grow. */
export interface SavedBaseShape {
  /** The variable's name when saved (names differ between processes; weights are matched by position). */
  readonly name: string;
  readonly shape: readonly number[];
  /** The size at base width of each dimension that grows with width; null for one that does not. */
  readonly baseShape: readonly (number | null)[];
  readonly norm: boolean;
}

/**
 * What ParamSpecs need, without the base model: microsoft/mup's base-shapes savefile, as JSON. It
 * does not depend on the width it was made at, so it gives the specs of the same architecture at
 * any width.
 */
export interface BaseShapes {
  readonly format: 'mup2-base-shapes';
  readonly version: 1;
  readonly weights: readonly SavedBaseShape[];
}

/** A tfjs-layers model as baseShapes' metadata helpers use it (tf.LayersModel has these). */
export interface ModelWithMetadata extends LayerLike {
  getUserDefinedMetadata(): unknown;
  setUserDefinedMetadata(metadata: object): void;
}

const positiveInteger = (value: unknown) => typeof value === 'number' && Number.isSafeInteger(value) && value > 0;

/** Which dimensions grow, read back from a spec given by role (paramSpecs' explicit form, or a copied spec). */
function growthFromRole(spec: ParamSpec): (number | null)[] {
  const shape = spec.variable.shape;
  const base = (size: number, multiplier: number) => {
    const value = size / multiplier;
    if (!positiveInteger(value)) {
      throw new InvalidOptionError(
        `baseShapes: '${spec.variable.name}' of shape [${shape.join(', ')}] has multipliers (fanIn ${spec.fanInMult}, ` +
          `fanOut ${spec.fanOutMult}) that give no whole base size; build its spec from shapes (describeParams, or paramSpecs with baseShape).`,
      );
    }
    return value;
  };
  if (shape.length <= 1) return [spec.fanOutMult === 1 ? null : base(shape[0] ?? 1, spec.fanOutMult)];
  const growth: (number | null)[] = shape.map(() => null);
  const last = shape.length - 1;
  if (spec.role === 'input' || spec.role === 'hidden') growth[last] = base(shape[last] as number, spec.fanOutMult);
  // Of the fan-in dimensions only the input channels grow (a conv kernel's window does not).
  if (spec.role === 'hidden' || spec.role === 'output')
    growth[last - 1] = base(shape[last - 1] as number, spec.fanInMult);
  return growth;
}

/**
 * The base shapes of `params`, to save next to a model (`attachBaseShapes`, or as a JSON file like
 * microsoft/mup's savefile) and to turn back into ParamSpecs with paramsFromBaseShapes, at this or any
 * other width, without the base model. Specs from describeParams and paramSpecs keep which dimensions
 * grow; a spec given by role is read back from its role (a vector grows when its fanOutMult is not 1).
 */
export function baseShapes(params: readonly ParamSpec[]): BaseShapes {
  return {
    format: 'mup2-base-shapes',
    version: 1,
    weights: params.map((spec) => ({
      name: spec.variable.name,
      shape: [...spec.variable.shape],
      baseShape: [...(growthOf(spec) ?? growthFromRole(spec))],
      norm: spec.norm,
    })),
  };
}

function assertBaseShapes(saved: unknown, context: string): asserts saved is BaseShapes {
  const candidate = saved as Partial<BaseShapes> | null | undefined;
  if (candidate?.format !== 'mup2-base-shapes' || candidate.version !== 1 || !Array.isArray(candidate.weights)) {
    throw new InvalidOptionError(
      `${context}: expected the object baseShapes(params) returned ({ format: 'mup2-base-shapes', version: 1, weights }), ` +
        `got ${saved === undefined ? 'undefined' : JSON.stringify(saved)?.slice(0, 120)}.`,
    );
  }
  candidate.weights.forEach((entry, index) => {
    const ok =
      typeof entry?.name === 'string' &&
      Array.isArray(entry.shape) &&
      entry.shape.every(positiveInteger) &&
      Array.isArray(entry.baseShape) &&
      entry.baseShape.length === entry.shape.length &&
      entry.baseShape.every((size: unknown) => size === null || positiveInteger(size)) &&
      typeof entry.norm === 'boolean';
    if (!ok)
      throw new InvalidOptionError(
        `${context}: weight ${index} of the base shapes is malformed: ${JSON.stringify(entry)}.`,
      );
  });
}

/** The last part of a variable name without tfjs-layers' uniqueness suffix: 'dense_Dense3/kernel_1' → 'kernel'. */
const weightKind = (name: string) => (name.split('/').pop() ?? name).replace(/_\d+$/, '');

/**
 * ParamSpecs of a model (its trainable weights, by position) or of your own variables from saved
 * base shapes, without the base model, as microsoft/mup's `set_base_shapes(model, savefile)`. The
 * model may be at another width than when the shapes were saved. Without `saved`, reads the model's
 * metadata (attachBaseShapes). Throws a ShapeMismatchError when the architecture differs: another
 * number of weights, another rank, or a dimension that does not grow with another size.
 */
export function paramsFromBaseShapes(target: LayerLike | readonly Variable[], saved?: unknown): ParamSpec[] {
  const context = 'paramsFromBaseShapes';
  let shapes = saved;
  if (shapes === undefined && !Array.isArray(target)) {
    const model = target as Partial<ModelWithMetadata>;
    const metadata = typeof model.getUserDefinedMetadata === 'function' ? model.getUserDefinedMetadata() : undefined;
    shapes = (metadata as Record<string, unknown> | undefined)?.[BASE_SHAPES_METADATA_KEY];
    if (shapes === undefined) {
      throw new InvalidOptionError(
        `${context}: the model's user-defined metadata has no '${BASE_SHAPES_METADATA_KEY}'; save it with ` +
          'attachBaseShapes(model, params) before model.save, or pass the base shapes as the second argument.',
      );
    }
  }
  assertBaseShapes(shapes, context);
  const fromModel = !Array.isArray(target);
  const variables = fromModel
    ? (target as LayerLike).trainableWeights.map((weight) => weight.read() as Variable)
    : (target as readonly Variable[]);
  if (variables.length !== shapes.weights.length) {
    throw new ShapeMismatchError(
      `${context}: ${variables.length} trainable weights here but ${shapes.weights.length} in the base shapes; ` +
        'expected the architecture they were saved for.',
    );
  }
  return variables.map((variable, index) => {
    assertUsableVariable(variable, context);
    const entry = shapes.weights[index] as SavedBaseShape;
    const shape = variable.shape;
    const where = `weight ${index} ('${variable.name}', saved as '${entry.name}')`;
    if (fromModel && weightKind(variable.name) !== weightKind(entry.name)) {
      throw new ShapeMismatchError(
        `${context}: ${where} is a '${weightKind(variable.name)}' here but a '${weightKind(entry.name)}' in the base shapes.`,
      );
    }
    const fixedDiffers = entry.baseShape.some((size, axis) => size === null && shape[axis] !== entry.shape[axis]);
    if (shape.length !== entry.shape.length || fixedDiffers) {
      throw new ShapeMismatchError(
        `${context}: ${where} has shape [${shape.join(', ')}], but the base shapes saved [${entry.shape.join(', ')}] ` +
          `with base [${entry.baseShape.map((size) => size ?? '·').join(', ')}] (· does not grow); expected the same rank and the same size in every dimension that does not grow.`,
      );
    }
    const baseShape = entry.baseShape.map((size, axis) => size ?? (shape[axis] as number));
    // A shape at another width than the base in exactly the growing dimensions tells roleFromShapes which ones grow.
    const deltaShape = entry.baseShape.map((size, axis) => (size === null ? (shape[axis] as number) : 2 * size));
    const spec = { variable, norm: entry.norm, ...roleFromShapes(shape, baseShape, variable.name, deltaShape) };
    return recordGrowth(spec, shape, baseShape, deltaShape);
  });
}

/**
 * Keeps the base shapes of `params` in the model's user-defined metadata, which `model.save` writes
 * into model.json, so that a loaded model gets its ParamSpecs from paramsFromBaseShapes(model) alone.
 * Other metadata the model has is kept.
 */
export function attachBaseShapes(model: ModelWithMetadata, params: readonly ParamSpec[]): void {
  const current = model.getUserDefinedMetadata();
  const others = typeof current === 'object' && current !== null ? current : {};
  model.setUserDefinedMetadata({ ...others, [BASE_SHAPES_METADATA_KEY]: baseShapes(params) });
}
