import { MissingParamSpecError } from './errors.js';
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

export function gradientList(
  gradients: Record<string, unknown> | Array<{ name: string; tensor: unknown }>,
): Array<{ name: string; tensor: unknown }> {
  return Array.isArray(gradients) ? gradients : Object.entries(gradients).map(([name, tensor]) => ({ name, tensor }));
}
