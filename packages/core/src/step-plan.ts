import type * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError, MissingParamSpecError } from './errors.js';
import { assertUsableVariable, type ParamSpec } from './param-spec.js';
import type { PlannedParameter } from './perturbation.js';
import type { PerturbationRule } from './perturbation-rule.js';

/** What one SAM step needs to know about its variables; built once per variable list. */
export interface StepPlan {
  /** Every trainable variable of the step: the second pass and the descent step use all of them. */
  readonly variables: tf.Variable[];
  /** The parameters the rule perturbs, with their constants a_p, b_p. */
  readonly selected: PlannedParameter[];
  readonly selectedVariables: tf.Variable[];
  readonly widthMultiplier: number;
}

/** A variable with no ParamSpec is treated as width multiplier 1 (plain SAM). */
function unitSpec(variable: tf.Variable): ParamSpec {
  return { variable, role: 'hidden', fanInMult: 1, fanOutMult: 1, norm: false };
}

export function buildStepPlan(
  rule: PerturbationRule,
  variables: tf.Variable[],
  specsByName: ReadonlyMap<string, ParamSpec> | undefined,
  widthMultiplier: number,
): StepPlan {
  for (const variable of variables) assertUsableVariable(variable, 'SamOptimizer.minimize');
  // variableGrads gives a non-trainable variable in varList a null gradient, and tf.Optimizer skips it;
  // so does a SAM step: it is neither perturbed nor stepped (a frozen layer, BatchNorm statistics).
  const trainable = variables.filter((variable) => variable.trainable);
  if (trainable.length === 0) {
    throw new InvalidOptionError(
      `SamOptimizer: none of the ${variables.length} variables in varList is trainable; expected at least one.`,
    );
  }
  const selected: PlannedParameter[] = [];
  for (const variable of trainable) {
    let spec: ParamSpec;
    if (specsByName === undefined) {
      spec = unitSpec(variable);
    } else {
      const found = specsByName.get(variable.name);
      if (found === undefined) {
        throw new MissingParamSpecError(
          `SamOptimizer: variable '${variable.name}' (shape [${variable.shape.join(', ')}]) is being optimized but has no ` +
            'ParamSpec in `params`; expected a spec for every variable in varList (use describeParams(model, baseModel) ' +
            'or paramSpecs([...])).',
        );
      }
      if (found.variable !== variable) {
        // Same name, another object: the spec's variable was disposed and a new one took its name.
        assertUsableVariable(found.variable, 'SamOptimizer params');
      }
      spec = found;
    }
    if (!rule.selects(spec)) continue;
    const scale = rule.layerScale(spec, widthMultiplier);
    for (const [what, value] of Object.entries(scale)) {
      if (!Number.isFinite(value) || value < 0) {
        throw new InvalidOptionError(
          `rule '${rule.name}' gave ${what} scale ${value} for '${variable.name}'; expected a finite number >= 0.`,
        );
      }
    }
    selected.push({ spec, scale });
  }
  if (selected.length === 0) {
    throw new InvalidOptionError(
      `rule '${rule.name}' selects none of the ${trainable.length} optimized variables; expected at least one ` +
        'parameter to perturb (a rule that perturbs norm parameters needs ParamSpecs with `norm: true`).',
    );
  }
  return {
    variables: trainable,
    selected,
    selectedVariables: selected.map((parameter) => parameter.spec.variable),
    widthMultiplier,
  };
}

/** The plan of the last variable list, rebuilt only when the list (or a variable's `trainable`) changes. */
export class StepPlanCache {
  private cached: { key: string; variables: tf.Variable[]; plan: StepPlan } | undefined;

  constructor(
    private readonly rule: PerturbationRule,
    private readonly specsByName: ReadonlyMap<string, ParamSpec> | undefined,
    private readonly widthMultiplier: number,
  ) {}

  /** The plan for `varList`, or for every trainable variable registered with the engine. */
  planFor(varList: tf.Variable[] | undefined, engineVariables: () => tf.Variable[]): StepPlan {
    const variables = varList ?? engineVariables();
    // A layer's `trainable` can change between steps (fine-tuning), so it is part of the key.
    const key = variables.map((variable) => `${variable.name}:${variable.trainable}`).join('\u0000');
    const cached = this.cached;
    if (cached !== undefined && cached.key === key && cached.variables.every((v, i) => v === variables[i])) {
      for (const variable of variables) {
        if (variable.isDisposed) assertUsableVariable(variable, 'SamOptimizer.minimize');
      }
      return cached.plan;
    }
    const plan = buildStepPlan(this.rule, variables, this.specsByName, this.widthMultiplier);
    this.cached = { key, variables: [...variables], plan };
    return plan;
  }
}
