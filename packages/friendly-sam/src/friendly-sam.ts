import {
  addScaled,
  assertRadius,
  assertScaling,
  InvalidOptionError,
  type PerturbationInputV2,
  type PerturbationRuleV2,
  type PerturbationScaling,
  samLayerScale,
} from '@mup2/core';
import * as tf from '@tensorflow/tfjs-core';

export interface FriendlySamOptions {
  /** The radius ρ (≥ 0), as at base width. */
  readonly rho: number;
  /** σ, how much of the gradient's running mean is taken out of the ascent direction. Default 1 (the authors'). */
  readonly sigma?: number;
  /** λ, the decay of the running mean m ← λ·m + (1 − λ)·g. Default 0.9 (the authors' class default; their CIFAR runs use 0.6 and 0.95). */
  readonly lambda?: number;
  /**
   * 'naive': a = b = 1 (the rule as published); 'global': ρ·r^(-1/2) (µP-global);
   * 'mup2' (default): a_p = b_p = m_p, as SAM (g − σ·m scales per layer like a gradient).
   * All three are the same at width multiplier 1.
   */
  readonly scaling?: PerturbationScaling;
}

export const FRIENDLY_SAM_DEFAULTS = { sigma: 1, lambda: 0.9 } as const;

/**
 * FriendlySAM (Li, Zhou, Gao, Wu, Ma, Wang: "Friendly Sharpness-Aware Minimization", CVPR 2024) as
 * a v2 rule with state. Each parameter keeps m_p, an exponential running mean of its gradient,
 * the estimate of the full gradient; the ascent leaves it out and follows the batch-specific part:
 *
 *   D_p = N_p = g_p − σ·m_p,   then m_p ← λ·m_p + (1 − λ)·g_p
 *
 * (the mean of the steps before this one, as in the authors' code, nblt/F-SAM). The first step has
 * no mean yet: it takes D = g and starts the mean at g, as the authors do. The mean is kept per
 * variable across steps, carried by getWeights/setWeights and moved only by steps that are taken.
 */
export function friendlySam(options: FriendlySamOptions): PerturbationRuleV2 {
  const {
    rho,
    sigma = FRIENDLY_SAM_DEFAULTS.sigma,
    lambda = FRIENDLY_SAM_DEFAULTS.lambda,
    scaling = 'mup2',
  } = options ?? ({} as FriendlySamOptions);
  assertRadius(rho, 'friendlySam');
  if (typeof sigma !== 'number' || !Number.isFinite(sigma) || sigma < 0) {
    throw new InvalidOptionError(`friendlySam: sigma must be a finite number >= 0, got ${String(sigma)}.`);
  }
  if (typeof lambda !== 'number' || !(lambda >= 0 && lambda < 1)) {
    throw new InvalidOptionError(`friendlySam: lambda must be a number in [0, 1), got ${String(lambda)}.`);
  }
  assertScaling(scaling, 'friendlySam');
  return {
    specificationVersion: 'v2',
    name: 'friendly-sam',
    radius: rho,
    scaling,
    explicitScaling: options?.scaling !== undefined,
    selects: () => true,
    layerScale: samLayerScale(scaling),
    direction({ gradient, state }: PerturbationInputV2) {
      const mean = state?.mean;
      if (mean === undefined) return { direction: gradient, normTerm: gradient, state: { mean: tf.clone(gradient) } };
      // g − σ·m and λ·m + (1 − λ)·g, each product rounded as TF.js's composition rounds it; on the
      // native backend addScaled is one pass where the composition makes two.
      const direction = addScaled(gradient, mean, tf.scalar(-sigma));
      const next = addScaled(tf.mul(mean, lambda), gradient, tf.scalar(1 - lambda));
      return { direction, normTerm: direction, state: { mean: next } };
    },
  };
}
