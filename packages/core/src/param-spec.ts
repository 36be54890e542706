import type { Variable } from '@tensorflow/tfjs-core';
import { DisposedVariableError, InvalidOptionError, ShapeMismatchError } from './errors.js';
import { recordGrowth } from './spec-growth.js';
import { assertOwnTfjsCopy } from './tfjs-identity.js';

/**
 * How a parameter's dimensions grow with width (docs/mup2-explained.md, "Roles and width multipliers"), as in
 * microsoft/mup's `set_base_shapes`:
 * - input: fan_in fixed, fan_out grows (first dense, first conv, patch embedding)
 * - hidden: both grow
 * - output: fan_in grows, fan_out fixed (readout)
 * - vector: one dimension (biases, norm gains and offsets)
 */
export type ParamRole = 'input' | 'hidden' | 'output' | 'vector';
export const PARAM_ROLES: readonly ParamRole[] = ['input', 'hidden', 'output', 'vector'];

/** A trainable variable with its µP role and width multipliers (docs/mup2-explained.md, "Roles and width multipliers"). */
export interface ParamSpec {
  readonly variable: Variable;
  readonly role: ParamRole;
  /** fan_in / base fan_in (1 for a dimension that does not grow with width). */
  readonly fanInMult: number;
  /** fan_out / base fan_out (1 for a dimension that does not grow with width). */
  readonly fanOutMult: number;
  /** True for the gains and offsets of BatchNorm / LayerNorm (SAM-ON perturbs only these). */
  readonly norm: boolean;
}

/**
 * A variable and the shape it has in the base-width model. Which dimensions
 * grow is read from `deltaShape` (the shape at another width) when given,
 * else from the difference between the variable's shape and `baseShape`. As in
 * microsoft/mup, a model at its own base width needs the delta: there no
 * dimension differs from the base, so without it every weight looks fixed-size.
 */
export interface ParamSpecFromBaseShape {
  readonly variable: Variable;
  readonly baseShape: readonly number[];
  readonly deltaShape?: readonly number[];
  readonly norm?: boolean;
}

/** A variable with its role and multipliers given by hand. */
export interface ParamSpecExplicit {
  readonly variable: Variable;
  readonly role: ParamRole;
  readonly fanInMult?: number;
  readonly fanOutMult?: number;
  readonly norm?: boolean;
}

export type ParamSpecInput = ParamSpecFromBaseShape | ParamSpecExplicit;

/**
 * Fan-in and fan-out of a TF.js weight: the last dimension is fan_out
 * (dense [in, out], conv [kh, kw, in, out]); a vector has fan_in 1.
 */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  const fanOut = shape[shape.length - 1] as number;
  if (shape.length === 1) return { fanIn: 1, fanOut };
  const fanIn = shape.slice(0, -1).reduce((product, size) => product * size, 1);
  return { fanIn, fanOut };
}

function checkShapes(shape: readonly number[], other: readonly number[], what: string, name: string): void {
  if (shape.length !== other.length) {
    throw new ShapeMismatchError(
      `${name} has shape [${shape.join(', ')}] but its ${what} shape is [${other.join(', ')}]; ` +
        'expected the same rank (the base model must have the same architecture at another width).',
    );
  }
  for (const size of other) {
    if (!Number.isInteger(size) || size <= 0) {
      throw new ShapeMismatchError(`${name}: ${what} shape [${other.join(', ')}] must have positive integer sizes.`);
    }
  }
}

/**
 * Role and multipliers of a parameter of `shape` whose base-width copy has
 * `baseShape`. The dimensions that grow with width are those in which
 * `deltaShape` (the parameter at a third width) differs from `baseShape`, or,
 * without a delta, those in which `shape` differs from `baseShape`.
 */
export function roleFromShapes(
  shape: readonly number[],
  baseShape: readonly number[],
  name = 'parameter',
  deltaShape?: readonly number[],
): Pick<ParamSpec, 'role' | 'fanInMult' | 'fanOutMult'> {
  checkShapes(shape, shape, 'own', name);
  checkShapes(shape, baseShape, 'base', name);
  const reference = deltaShape ?? shape;
  if (deltaShape) checkShapes(shape, deltaShape, 'delta', name);
  const { fanIn, fanOut } = fans(shape);
  const base = fans(baseShape);
  const grown = fans(reference);
  const fanInMult = fanIn / base.fanIn;
  const fanOutMult = fanOut / base.fanOut;
  if (shape.length <= 1) return { role: 'vector', fanInMult: 1, fanOutMult };
  const inGrows = grown.fanIn !== base.fanIn;
  const outGrows = grown.fanOut !== base.fanOut;
  const role: ParamRole = inGrows && outGrows ? 'hidden' : inGrows ? 'output' : 'input';
  return { role, fanInMult, fanOutMult };
}

function checkMultiplier(value: number, what: string, name: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(`${name}: ${what} must be a positive finite number, got ${value}.`);
  }
  return value;
}

/** Throws when the variable was disposed or comes from another copy of tfjs-core. */
export function assertUsableVariable(variable: Variable, context: string): void {
  assertOwnTfjsCopy(variable, context);
  if (variable.isDisposed) {
    throw new DisposedVariableError(
      `${context}: variable '${variable.name}' was disposed; expected a live tf.Variable.`,
    );
  }
}

/**
 * ParamSpecs for hand-built variables. Each entry gives either the variable's
 * shape in the base-width model (`baseShape`, as mup's `set_base_shapes`) or
 * its role and multipliers explicitly.
 */
export function paramSpecs(entries: readonly ParamSpecInput[]): ParamSpec[] {
  const seen = new Set<string>();
  const specs = entries.map((entry): ParamSpec => {
    assertUsableVariable(entry.variable, 'paramSpecs');
    const name = entry.variable.name;
    if (seen.has(name)) {
      throw new InvalidOptionError(`paramSpecs: variable '${name}' appears twice; expected each variable once.`);
    }
    seen.add(name);
    const norm = entry.norm ?? false;
    if ('baseShape' in entry) {
      const spec = {
        variable: entry.variable,
        norm,
        ...roleFromShapes(entry.variable.shape, entry.baseShape, name, entry.deltaShape),
      };
      return recordGrowth(spec, entry.variable.shape, entry.baseShape, entry.deltaShape);
    }
    if (!PARAM_ROLES.includes(entry.role)) {
      throw new InvalidOptionError(
        `paramSpecs: variable '${name}' has role '${String(entry.role)}'; expected one of ${PARAM_ROLES.join(', ')}.`,
      );
    }
    return {
      variable: entry.variable,
      role: entry.role,
      fanInMult: checkMultiplier(entry.fanInMult ?? 1, 'fanInMult', name),
      fanOutMult: checkMultiplier(entry.fanOutMult ?? 1, 'fanOutMult', name),
      norm,
    };
  });
  const fromShapes = entries.filter((entry): entry is ParamSpecFromBaseShape => 'baseShape' in entry);
  const grows = fromShapes.some((entry) =>
    (entry.deltaShape ?? entry.variable.shape).some((size, axis) => size !== entry.baseShape[axis]),
  );
  if (fromShapes.length > 0 && fromShapes.length === entries.length && !grows) {
    throw new InvalidOptionError(
      `paramSpecs: every ${entries.some((entry) => 'deltaShape' in entry && entry.deltaShape) ? 'deltaShape' : 'variable'} ` +
        'has its baseShape, so no dimension grows and every role would be wrong (a readout would come out as an ' +
        'input weight). Expected baseShape at the base width, and, for variables at the base width themselves, a ' +
        "deltaShape at another width (as mup's delta), or explicit roles ({ variable, role, fanInMult, fanOutMult }).",
    );
  }
  return specs;
}

/** m_p = fanOutMult / fanInMult: the factor on the SGD learning rate in µP (input r, hidden 1, output 1/r, vector r). */
export function sgdMultiplier(spec: Pick<ParamSpec, 'fanInMult' | 'fanOutMult'>): number {
  return spec.fanOutMult / spec.fanInMult;
}

/** The factor on the Adam learning rate in µP: 1 for input and vector parameters, 1/fanInMult for hidden and output. */
export function adamMultiplier(spec: Pick<ParamSpec, 'fanInMult'>): number {
  return 1 / spec.fanInMult;
}

/**
 * The model's width multiplier r: the fan-in multiplier of its hidden weights
 * (docs/mup2-explained.md, "Roles and width multipliers"); without hidden weights, the largest multiplier of any parameter.
 */
export function modelWidthMultiplier(specs: readonly ParamSpec[]): number {
  const hidden = specs.filter((spec) => spec.role === 'hidden').map((spec) => spec.fanInMult);
  if (hidden.length > 0) return Math.max(...hidden);
  const all = specs.flatMap((spec) => [spec.fanInMult, spec.fanOutMult]);
  return all.length > 0 ? Math.max(...all) : 1;
}
