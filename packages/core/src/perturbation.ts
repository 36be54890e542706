import * as tf from '@tensorflow/tfjs-core';
import { addScaled, type MoveTerms, movedWeights, sumOfSquares } from './fused-kernels.js';
import type { ParamSpec } from './param-spec.js';
import type { LayerScale, PerturbationDirection, PerturbationRule } from './perturbation-rule.js';
import type { ParameterState } from './perturbation-rule-v2.js';
import { assertParameterState, type RuleStateStore } from './rule-state.js';

/** A selected parameter with the rule's constants for it, computed once per parameter set. */
export interface PlannedParameter {
  readonly spec: ParamSpec;
  readonly scale: LayerScale;
}

/** The perturbation of one step, as computePerturbation returns it. */
export interface Perturbation {
  /** ε_p for each selected parameter, keyed by variable name (empty with `moved`). */
  readonly perturbations: tf.NamedTensorMap;
  /** With the option `moved`: w_p + ε_p, from each variable's current value, in place of ε_p. */
  readonly moved?: tf.NamedTensorMap;
  /** Σ_q b_q ‖N_q‖², the squared normaliser (NaN or Infinity when a gradient was not finite). */
  readonly normSquared: tf.Scalar;
  /** A v2 rule's proposed states, by variable name (new tensors, the caller's). */
  readonly states?: Record<string, ParameterState>;
}

/** What a v2 rule's direction reads besides the gradient: the step count and the kept states. */
export interface RuleStateContext {
  readonly step: number;
  readonly states: RuleStateStore;
}

/** Guards ε = 0/0 when every gradient is zero (the SAM anchors use the same 1e-12). */
export const NORM_EPSILON = 1e-12;

/**
 * ε_p = ρ · a_p · D_p / ( sqrt( Σ_q b_q ‖N_q‖² ) + 1e-12 ), as in docs/mup2-explained.md.
 * With `moved`, the weights w_p + ε_p instead (one pass each where the backend has a fused kernel:
 * what an ascent needs that does not keep ε). All intermediates are disposed; the caller owns the
 * returned tensors.
 */
export function computePerturbation(
  rule: PerturbationRule,
  planned: readonly PlannedParameter[],
  gradients: tf.NamedTensorMap,
  radius: number,
  widthMultiplier: number,
  stateContext?: RuleStateContext,
  moved = false,
): Perturbation {
  return tf.tidy(() => {
    const terms: MoveTerms[] = [];
    const used: PlannedParameter[] = [];
    const states: Record<string, ParameterState> = {};
    for (const parameter of planned) {
      const name = parameter.spec.variable.name;
      const gradient = gradients[name];
      if (gradient === undefined) continue; // the loss does not depend on it: no ascent direction
      const input = { gradient, weight: parameter.spec.variable, spec: parameter.spec, widthMultiplier };
      let result: PerturbationDirection;
      if (rule.specificationVersion === 'v2') {
        const own = rule.direction({ ...input, state: stateContext?.states.get(name), step: stateContext?.step ?? 0 });
        if (own.state !== undefined) states[name] = ownState(own.state, [gradient, input.weight], rule.name, name);
        result = own;
      } else {
        result = rule.direction(input);
      }
      const { perturbation, norm } = parameter.scale;
      terms.push({
        weight: parameter.spec.variable,
        direction: result.direction,
        normTerm: result.normTerm,
        perturbationScale: perturbation,
        normScale: norm,
      });
      used.push(parameter);
    }
    const perturbations: tf.NamedTensorMap = {};
    const points: tf.NamedTensorMap = {};
    // The whole move in one kernel where the backend has it; else a call per norm, factor and move.
    const fused = moved ? movedWeights(terms, radius) : undefined;
    let normSquared: tf.Scalar;
    if (fused !== undefined) {
      normSquared = fused.normSquared;
      used.forEach((parameter, index) => {
        points[parameter.spec.variable.name] = fused.moved[index] as tf.Tensor;
      });
    } else {
      const normTerms = terms.map(({ normTerm, normScale }) => {
        const squared = sumOfSquares(normTerm);
        return normScale === 1 ? squared : (tf.mul(squared, normScale) as tf.Scalar);
      });
      normSquared = normTerms.length > 0 ? tf.addN(normTerms) : tf.scalar(0);
      const step: tf.Scalar = tf.div(radius, tf.add(tf.sqrt(normSquared), NORM_EPSILON));
      terms.forEach(({ weight, direction, perturbationScale }, index) => {
        const factor: tf.Scalar = perturbationScale === 1 ? step : tf.mul(step, perturbationScale);
        const name = (used[index] as PlannedParameter).spec.variable.name;
        if (moved) points[name] = addScaled(weight, direction, factor);
        else perturbations[name] = tf.mul(direction, factor);
      });
    }
    return {
      perturbations,
      normSquared,
      ...(moved && { moved: points }),
      ...(Object.keys(states).length > 0 && { states }),
    };
  });
}

/**
 * A returned state whose tensors the store may keep: a tensor that is one of the step's own
 * (a gradient, the weight) is copied. The kept state's tensors may be carried over as they are.
 */
export function ownState(
  state: ParameterState,
  inputs: readonly tf.Tensor[],
  rule: string,
  variable: string,
  hook = 'direction',
): ParameterState {
  assertParameterState(state, rule, variable, hook);
  const foreign = new Set(inputs);
  const owned: Record<string, tf.Tensor> = {};
  for (const [key, tensor] of Object.entries(state)) owned[key] = foreign.has(tensor) ? tf.clone(tensor) : tensor;
  return owned;
}
