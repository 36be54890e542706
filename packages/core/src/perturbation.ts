import * as tf from '@tensorflow/tfjs-core';
import type { ParamSpec } from './param-spec.js';
import type { LayerScale, PerturbationRule } from './perturbation-rule.js';

/** A selected parameter with the rule's constants for it, computed once per parameter set. */
export interface PlannedParameter {
  readonly spec: ParamSpec;
  readonly scale: LayerScale;
}

export interface Perturbation {
  /** ε_p for each selected parameter, keyed by variable name. */
  readonly perturbations: tf.NamedTensorMap;
  /** Σ_q b_q ‖N_q‖², the squared normaliser (NaN or Infinity when a gradient was not finite). */
  readonly normSquared: tf.Scalar;
}

/** Guards ε = 0/0 when every gradient is zero (the SAM anchors use the same 1e-12). */
export const NORM_EPSILON = 1e-12;

/**
 * ε_p = ρ · a_p · D_p / ( sqrt( Σ_q b_q ‖N_q‖² ) + 1e-12 ), DESIGN.md §5.
 * All intermediates are disposed; the caller owns the returned tensors.
 */
export function computePerturbation(
  rule: PerturbationRule,
  planned: readonly PlannedParameter[],
  gradients: tf.NamedTensorMap,
  radius: number,
  widthMultiplier: number,
): Perturbation {
  return tf.tidy(() => {
    const directions: tf.Tensor[] = [];
    const normTerms: tf.Scalar[] = [];
    const used: PlannedParameter[] = [];
    for (const parameter of planned) {
      const gradient = gradients[parameter.spec.variable.name];
      if (gradient === undefined) continue; // the loss does not depend on it: no ascent direction
      const { direction, normTerm } = rule.direction({
        gradient,
        weight: parameter.spec.variable,
        spec: parameter.spec,
        widthMultiplier,
      });
      const squared = tf.sum(tf.square(normTerm)) as tf.Scalar;
      normTerms.push(parameter.scale.norm === 1 ? squared : tf.mul(squared, parameter.scale.norm));
      directions.push(direction);
      used.push(parameter);
    }
    const normSquared: tf.Scalar = normTerms.length > 0 ? tf.addN(normTerms) : tf.scalar(0);
    const step = tf.div(radius, tf.add(tf.sqrt(normSquared), NORM_EPSILON));
    const perturbations: tf.NamedTensorMap = {};
    used.forEach((parameter, index) => {
      const factor = parameter.scale.perturbation === 1 ? step : tf.mul(step, parameter.scale.perturbation);
      perturbations[parameter.spec.variable.name] = tf.mul(directions[index] as tf.Tensor, factor);
    });
    return { perturbations, normSquared };
  });
}
