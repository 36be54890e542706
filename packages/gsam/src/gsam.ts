import {
  addScaled,
  assertRadius,
  assertScaling,
  type DescentInput,
  type DescentOutput,
  InvalidOptionError,
  type PerturbationRuleV2,
  type PerturbationScaling,
  samLayerScale,
  weightedInnerProduct,
} from '@mup2/core';
import * as tf from '@tensorflow/tfjs-core';

export interface GsamOptions {
  /** The radius ρ (≥ 0), as at base width. GSAM's authors schedule it with the learning rate: pass SamOptimizer a `rhoSchedule`. */
  readonly rho: number;
  /** α, the weight of the surrogate-gap term: the descent is g' − α·g⊥. Default 0.4 (kozistr/pytorch_optimizer's and the authors' example). */
  readonly alpha?: number;
  /**
   * 'naive': SAM's ε and GSAM's decomposition in the plain inner product (the rule as published);
   * 'global': ρ·r^(-1/2) (µP-global); 'mup2' (default): SAM's µP² ε (a_p = b_p = m_p) and the
   * decomposition in the same geometry, Σ_p m_p⟨·,·⟩. All three are the same at width multiplier 1.
   */
  readonly scaling?: PerturbationScaling;
}

/** GSAM's default α. */
export const GSAM_DEFAULT_ALPHA = 0.4;

/** Guards 0/0 in the cosine and the projection, as the SAM anchors guard the normaliser. */
const EPSILON = 1e-12;

/**
 * GSAM, surrogate gap guided SAM (Zhuang et al., ICLR 2022), as a v2 rule. The ascent is SAM's,
 * ε = ρ·a_p·g_p / sqrt(Σ_q b_q‖g_q‖²); the descent is not g' = ∇f(w + ε) but
 *
 *   d = g' − α·g⊥,   g⊥ = g − (⟨g, g'⟩ / ‖g'‖²)·g'
 *
 * with g = ∇f(w): the part of the gradient at w orthogonal to g' is subtracted, which lowers the
 * surrogate gap f(w + ε) − f(w) without changing the descent along g'. Inner products and norms are
 * taken in the normaliser's geometry, ⟨u, v⟩ = Σ_p b_p⟨u_p, v_p⟩: plain under 'naive' and 'global',
 * µP-SGD's under 'mup2', where every layer's term is Θ(1) in width (in the plain one a wide µP
 * network's readout alone would set the cosine). d, like g', scales per layer like a gradient, so
 * the base optimizer's µP learning rates apply as they do to SAM.
 */
export function gsam(options: GsamOptions): PerturbationRuleV2 {
  const { rho, alpha = GSAM_DEFAULT_ALPHA, scaling = 'mup2' } = options ?? ({} as GsamOptions);
  assertRadius(rho, 'gsam');
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha < 0) {
    throw new InvalidOptionError(`gsam: alpha must be a finite number >= 0, got ${String(alpha)}.`);
  }
  assertScaling(scaling, 'gsam');
  return {
    specificationVersion: 'v2',
    name: 'gsam',
    radius: rho,
    scaling,
    explicitScaling: options?.scaling !== undefined,
    selects: () => true,
    layerScale: samLayerScale(scaling),
    direction: ({ gradient }) => ({ direction: gradient, normTerm: gradient }),
    descent({ parameters }: DescentInput): DescentOutput {
      const both = parameters.filter((parameter) => parameter.perturbedGradient !== undefined);
      const pair = (left: 'gradient' | 'perturbedGradient', right: 'gradient' | 'perturbedGradient') =>
        both.map((parameter) => ({
          left: parameter[left] as tf.Tensor,
          right: parameter[right] as tf.Tensor,
          weight: parameter.scale.norm,
        }));
      const gradientNorm = tf.sqrt(weightedInnerProduct(pair('gradient', 'gradient')));
      const perturbedNorm = tf.sqrt(weightedInnerProduct(pair('perturbedGradient', 'perturbedGradient')));
      const cosine = tf.div(
        weightedInnerProduct(pair('gradient', 'perturbedGradient')),
        tf.add(tf.mul(gradientNorm, perturbedNorm), EPSILON),
      );
      // (⟨g, g'⟩ / ‖g'‖²)·g' written as cos·‖g‖·g'/‖g'‖, the authors' form.
      const projection = tf.div(tf.mul(cosine, gradientNorm), tf.add(perturbedNorm, EPSILON));
      // g − p·g' and g' − α·g⊥, each one pass of addScaled on the native backend (all four are scalars).
      const minusProjection = tf.neg(projection) as tf.Scalar;
      const minusAlpha = tf.scalar(-alpha);
      const gradients: Record<string, tf.Tensor> = {};
      for (const { spec, gradient, perturbedGradient } of both) {
        const orthogonal = addScaled(gradient, perturbedGradient as tf.Tensor, minusProjection);
        gradients[spec.variable.name] = addScaled(perturbedGradient as tf.Tensor, orthogonal, minusAlpha);
      }
      return { gradients };
    },
  };
}
