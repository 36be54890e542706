import * as tf from '@tensorflow/tfjs-core';
import { MissingParamSpecError } from './errors.js';
import type { NamedTensor } from './named-tensor.js';
import { assertUsableVariable, type ParamSpec } from './param-spec.js';

/**
 * Learning-rate multipliers per variable name, computed once from the specs.
 * Without specs every variable gets 1 (the standard parameterization).
 */
export class PerVariableRates {
  private readonly byName: Map<string, number> | undefined;

  constructor(
    private readonly optimizerName: string,
    params: readonly ParamSpec[] | undefined,
    multiplier: (spec: ParamSpec) => number,
  ) {
    if (params === undefined) return;
    this.byName = new Map();
    for (const spec of params) {
      assertUsableVariable(spec.variable, `${optimizerName} params`);
      this.byName.set(spec.variable.name, multiplier(spec));
    }
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
