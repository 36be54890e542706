import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError, MissingParamSpecError } from './errors.js';
import type { NamedTensor } from './named-tensor.js';
import { assertUsableVariable, type ParamSpec } from './param-spec.js';

/** Which learning rates muSgd and muAdam apply with their params: µP's per-layer ones, or one rate for all (SP). */
export type LearningRateParameterization = 'mup' | 'sp';

/**
 * Learning-rate multipliers per variable name, computed once from the specs.
 * Without specs, or under 'sp', every variable gets 1 (the standard parameterization).
 */
export class PerVariableRates {
  private readonly byName: Map<string, number> | undefined;
  /** The specs given, if any. */
  readonly params: readonly ParamSpec[] | undefined;

  constructor(
    private readonly optimizerName: string,
    params: readonly ParamSpec[] | undefined,
    multiplier: (spec: ParamSpec) => number,
    parameterization: LearningRateParameterization = 'mup',
  ) {
    if (parameterization !== 'mup' && parameterization !== 'sp') {
      throw new InvalidOptionError(
        `${optimizerName}: parameterization must be 'mup' or 'sp', got ${JSON.stringify(parameterization)}.`,
      );
    }
    this.params = params;
    if (params === undefined) return;
    this.byName = new Map();
    for (const spec of params) {
      assertUsableVariable(spec.variable, `${optimizerName} params`);
      this.byName.set(spec.variable.name, parameterization === 'sp' ? 1 : multiplier(spec));
    }
  }

  /**
   * Throws unless every name in `names` (a restored state's variable names) is a variable this
   * optimizer can step: one of its params, or without params a variable that exists. State under
   * another name would be kept and never used, and the run would silently start that state afresh.
   */
  assertStateNames(names: readonly string[], context: string): void {
    const known = this.byName ?? new Map(Object.keys(tf.engine().registeredVariables).map((name) => [name, 1]));
    const unknown = names.filter((name) => !known.has(name));
    if (unknown.length === 0) return;
    const list = (items: readonly string[]) =>
      items
        .slice(0, 4)
        .map((item) => `'${item}'`)
        .join(', ') + (items.length > 4 ? `, … (${items.length} in all)` : '');
    throw new InvalidOptionError(
      `${context}: the state names ${unknown.length === 1 ? 'a variable that does' : 'variables that do'} not exist ` +
        `${this.byName ? 'in its params' : 'in this process'}: ${list(unknown)}; expected names of ${list([...known.keys()])}. ` +
        'Optimizer state is keyed by variable name: restore it after building the model whose weights it was saved ' +
        'with, with the same layer names (tfjs-layers numbers unnamed layers per process, e.g. dense_Dense1; give ' +
        'layers a `name` to make them stable).',
    );
  }

  of(variableName: string): number {
    if (this.byName === undefined) return 1;
    const rate = this.byName.get(variableName);
    if (rate === undefined) {
      throw new MissingParamSpecError(
        `${this.optimizerName}: variable '${variableName}' has a gradient but no ParamSpec; expected a spec for every ` +
          'optimized variable (describeParams(model, baseModel) or paramSpecs([...])).',
      );
    }
    return rate;
  }
}

export interface VariableUpdate {
  readonly name: string;
  readonly variable: tf.Variable;
  readonly gradient: tf.Tensor;
  /** The variable's learning-rate multiplier. */
  readonly rate: number;
}

/**
 * The gradients of registered variables, each with its rate. Every rate is
 * looked up before the caller moves any weight, so a variable without a spec
 * fails the whole step instead of leaving it half applied.
 */
export function variableUpdates(
  gradients: tf.NamedTensorMap | NamedTensor[],
  rates: PerVariableRates,
): VariableUpdate[] {
  const registered = tf.engine().registeredVariables;
  const list = Array.isArray(gradients)
    ? gradients
    : Object.entries(gradients).map(([name, tensor]) => ({ name, tensor }));
  const updates: VariableUpdate[] = [];
  for (const { name, tensor } of list) {
    const gradient = tensor as tf.Tensor | null | undefined;
    if (gradient == null) continue;
    const variable = registered[name];
    if (variable === undefined) continue;
    updates.push({ name, variable, gradient, rate: rates.of(name) });
  }
  return updates;
}
