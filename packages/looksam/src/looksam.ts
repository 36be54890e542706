import {
  addScaled,
  assertRadius,
  assertScaling,
  type DescentInput,
  type DescentOutput,
  type DescentParameter,
  InvalidOptionError,
  type PerturbationRuleV2,
  type PerturbationScaling,
  samLayerScale,
  weightedInnerProduct,
} from '@mup2/core';
import * as tf from '@tensorflow/tfjs-core';

export interface LookSamOptions {
  /** The radius ρ (≥ 0), as at base width. */
  readonly rho: number;
  /** k: a full SAM step every k steps, steps in between reuse its gradient component. Default 10 (kozistr/pytorch_optimizer's; the paper's k = 5 … 20). */
  readonly k?: number;
  /** α, how much of the reused component is added: g + α·(‖g‖/‖g_v‖)·g_v. Default 0.7 (kozistr/pytorch_optimizer's and the paper's). */
  readonly alpha?: number;
  /**
   * Decompose each parameter tensor on its own (norms and cosines per tensor), as
   * kozistr/pytorch_optimizer does, instead of the whole gradient at once, as the paper's
   * Algorithm 1 does. Default false.
   */
  readonly layerwise?: boolean;
  /**
   * 'naive': a = b = 1, plain norms (the rule as published); 'global': ρ·r^(-1/2) (µP-global);
   * 'mup2' (default): SAM's µP² ε (a_p = b_p = m_p), and the decomposition in the same geometry,
   * Σ_p m_p⟨·,·⟩. All three are the same at width multiplier 1.
   */
  readonly scaling?: PerturbationScaling;
}

export const LOOKSAM_DEFAULTS = { k: 10, alpha: 0.7 } as const;

/** Guards 0/0 when a gradient or its component is zero. */
const EPSILON = 1e-12;

/**
 * LookSAM (Liu, Mai, Chen, Hsieh, You: "Towards Efficient and Scalable Sharpness-Aware
 * Minimization", CVPR 2022) as a v2 rule. Every k-th step is a full SAM step, which also keeps
 * the part of g_s = ∇f(w + ε) orthogonal to g = ∇f(w):
 *
 *   g_v = g_s − (⟨g, g_s⟩ / ‖g‖²)·g
 *
 * The k − 1 steps in between take one pass, at w, and descend along g + α·(‖g‖/‖g_v‖)·g_v: about
 * an SGD step's cost. g_v is state per parameter (getWeights/setWeights carry it); without it (the
 * first step, or after the variables changed) the step is a full one. Norms and inner products are
 * taken in the normaliser's geometry, Σ_p b_p⟨·,·⟩: plain under 'naive', µP-SGD's under 'mup2'.
 */
export function lookSam(options: LookSamOptions): PerturbationRuleV2 {
  const {
    rho,
    k = LOOKSAM_DEFAULTS.k,
    alpha = LOOKSAM_DEFAULTS.alpha,
    layerwise = false,
    scaling = 'mup2',
  } = options ?? ({} as LookSamOptions);
  assertRadius(rho, 'lookSam');
  if (!(Number.isSafeInteger(k) && k >= 1)) {
    throw new InvalidOptionError(`lookSam: k must be a positive integer, got ${String(k)}.`);
  }
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha < 0) {
    throw new InvalidOptionError(`lookSam: alpha must be a finite number >= 0, got ${String(alpha)}.`);
  }
  if (typeof layerwise !== 'boolean') {
    throw new InvalidOptionError(`lookSam: layerwise must be true or false, got ${String(layerwise)}.`);
  }
  assertScaling(scaling, 'lookSam');
  /** The parameters' inner products ⟨x, y⟩: one over all of them, or one per parameter. */
  const products = (
    parameters: readonly DescentParameter[],
    left: (parameter: DescentParameter) => tf.Tensor,
    right: (parameter: DescentParameter) => tf.Tensor,
  ): tf.Scalar[] => {
    const pairs = parameters.map((parameter) => ({
      left: left(parameter),
      right: right(parameter),
      weight: parameter.scale.norm,
    }));
    if (layerwise) return pairs.map((pair) => weightedInnerProduct([{ ...pair, weight: 1 }]));
    const total = weightedInnerProduct(pairs);
    return parameters.map(() => total);
  };
  return {
    specificationVersion: 'v2',
    name: 'looksam',
    radius: rho,
    scaling,
    explicitScaling: options?.scaling !== undefined,
    selects: () => true,
    layerScale: samLayerScale(scaling),
    direction: ({ gradient }) => ({ direction: gradient, normTerm: gradient }),
    ascends: ({ step, hasState }) => step % k === 0 || !hasState,
    descent({ parameters }: DescentInput): DescentOutput {
      const gradient = (parameter: DescentParameter) => parameter.gradient;
      const gradientNorms = products(parameters, gradient, gradient);
      if (parameters.every((parameter) => parameter.perturbedGradient !== undefined)) {
        // A full step: descend along g_s, keep g_v.
        const perturbed = (parameter: DescentParameter) => parameter.perturbedGradient as tf.Tensor;
        const dots = products(parameters, gradient, perturbed);
        const states: DescentOutput['states'] = Object.fromEntries(
          parameters.map((parameter, index) => {
            const coefficient = tf.div(dots[index] as tf.Scalar, tf.add(gradientNorms[index] as tf.Scalar, EPSILON));
            const orthogonal = tf.sub(perturbed(parameter), tf.mul(coefficient, parameter.gradient));
            return [parameter.spec.variable.name, { orthogonal }];
          }),
        );
        return { states };
      }
      // A step between full ones: g + α·(‖g‖/‖g_v‖)·g_v with the g_v kept.
      const orthogonal = (parameter: DescentParameter) => parameter.state?.orthogonal as tf.Tensor;
      const orthogonalNorms = products(parameters, orthogonal, orthogonal);
      const gradients: Record<string, tf.Tensor> = {};
      parameters.forEach((parameter, index) => {
        const ratio = tf.div(
          tf.sqrt(gradientNorms[index] as tf.Scalar),
          tf.add(tf.sqrt(orthogonalNorms[index] as tf.Scalar), EPSILON),
        );
        gradients[parameter.spec.variable.name] = addScaled(
          parameter.gradient,
          orthogonal(parameter),
          tf.mul(ratio, alpha),
        );
      });
      return { gradients };
    },
  };
}
