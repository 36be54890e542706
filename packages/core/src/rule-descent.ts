import * as tf from '@tensorflow/tfjs-core';
import { RuleSpecificationError } from './errors.js';
import { ownState } from './perturbation.js';
import type { DescentParameter, ParameterState } from './perturbation-rule-v2.js';
import { disposeProposed, type StateMap } from './rule-state.js';
import type { StepContext } from './step-context.js';

/** Whether the rule has a descent hook, so that the gradients at w must outlive the ascent. */
export function hasOwnDescent(context: Pick<StepContext, 'rule'>): boolean {
  return context.rule.specificationVersion === 'v2' && typeof context.rule.descent === 'function';
}

/** Whether this step takes the ascent: v1 rules always do; a v2 rule may say no (LookSAM between full steps). */
export function ascendsThisStep(context: StepContext): boolean {
  const { rule } = context;
  if (rule.specificationVersion !== 'v2' || typeof rule.ascends !== 'function') return true;
  const names = context.plan.selectedVariables.map((variable) => variable.name);
  return rule.ascends({ step: context.step, hasState: context.ruleState.hasAll(names) }) !== false;
}

/**
 * The descent direction of a step: `base` (g' at w + ε for every variable, or g at w on a step
 * without an ascent) with the selected parameters' entries replaced by what the rule's descent
 * hook returns, and the states it proposes merged over `proposed`. `base` passes to the result
 * (its replaced tensors are disposed): with an ascent it is `atPerturbed`, and `atWeights` stays the
 * caller's; without one it is `atWeights` itself.
 */
export function combineDescent(
  context: StepContext,
  atWeights: tf.NamedTensorMap,
  atPerturbed: tf.NamedTensorMap | undefined,
  proposed: Record<string, ParameterState> | undefined,
): { gradients: tf.NamedTensorMap; states: StateMap | undefined } {
  const { rule, plan } = context;
  const base = atPerturbed ?? atWeights;
  const states: StateMap | undefined = proposed === undefined ? undefined : new Map(Object.entries(proposed));
  if (rule.specificationVersion !== 'v2' || typeof rule.descent !== 'function') return { gradients: base, states };
  const parameters: DescentParameter[] = [];
  for (const { spec, scale } of plan.selected) {
    const gradient = atWeights[spec.variable.name];
    if (gradient === undefined) continue;
    parameters.push({
      spec,
      scale,
      gradient,
      perturbedGradient: atPerturbed?.[spec.variable.name],
      state: proposed?.[spec.variable.name] ?? context.ruleState.get(spec.variable.name),
    });
  }
  const descent = rule.descent;
  const output = tf.tidy(() => {
    const result = descent.call(rule, { parameters, widthMultiplier: plan.widthMultiplier, step: context.step });
    return { gradients: { ...result?.gradients }, states: { ...result?.states } };
  });
  const inputs = new Set<tf.Tensor>([...Object.values(atWeights), ...Object.values(base)]);
  const selected = new Map(parameters.map((parameter) => [parameter.spec.variable.name, parameter]));
  for (const [name, tensor] of Object.entries(output.gradients)) {
    const parameter = selected.get(name);
    if (parameter === undefined || !(tensor instanceof tf.Tensor) || !sameShape(tensor, parameter.gradient)) {
      tf.dispose(Object.values(output.gradients).filter((t) => !inputs.has(t)));
      disposeProposed(output.states, context.ruleState);
      throw new RuleSpecificationError(
        `rule '${rule.name}' returned a descent direction for '${name}' ` +
          `${tensor instanceof tf.Tensor ? `of shape [${tensor.shape.join(', ')}]` : `that is ${String(tensor)}`}; ` +
          'expected one of the shape of the gradient, for a parameter the rule selects.',
      );
    }
  }
  const ownStates = new Map<string, ParameterState>();
  try {
    for (const [name, state] of Object.entries(output.states)) {
      const weight = selected.get(name)?.spec.variable;
      ownStates.set(
        name,
        ownState(state, weight === undefined ? [...inputs] : [...inputs, weight], rule.name, name, 'descent'),
      );
    }
  } catch (error) {
    tf.dispose(Object.values(output.gradients).filter((t) => !inputs.has(t)));
    disposeProposed(output.states, context.ruleState);
    throw error;
  }
  const gradients: tf.NamedTensorMap = { ...base };
  for (const [name, tensor] of Object.entries(output.gradients)) {
    if (tensor === base[name]) continue;
    const owned = inputs.has(tensor) ? tf.clone(tensor) : tensor;
    base[name]?.dispose();
    gradients[name] = owned;
  }
  const merged: StateMap = states ?? new Map();
  for (const [name, own] of ownStates) {
    const earlier = merged.get(name);
    if (earlier !== undefined) {
      const keep = new Set([...Object.values(own), ...Object.values(context.ruleState.get(name) ?? {})]);
      tf.dispose(Object.values(earlier).filter((tensor) => !keep.has(tensor)));
    }
    merged.set(name, own);
  }
  return { gradients, states: merged.size > 0 ? merged : undefined };
}

function sameShape(a: tf.Tensor, b: tf.Tensor): boolean {
  return a.shape.length === b.shape.length && a.shape.every((size, axis) => size === b.shape[axis]);
}
