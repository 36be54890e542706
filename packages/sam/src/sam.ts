import {
  assertRadius,
  assertScaling,
  type PerturbationRule,
  type PerturbationScaling,
  samLayerScale,
} from '@mup2/core';

/** Options of sam(). */
export interface SamOptions {
  /** The radius ρ (≥ 0), as in the SAM literature at base width. */
  readonly rho: number;
  /**
   * 'naive': ε = ρ·g/‖g‖ (standard SAM); 'global': ρ·r^(-1/2) (µP-global);
   * 'mup2' (default): the µP² layerwise scaling a_p = b_p = m_p.
   * All three are the same at width multiplier 1.
   */
  readonly scaling?: PerturbationScaling;
}

/**
 * SAM (Foret et al. 2021) with the µP² scalings of docs/mup2-explained.md ("The fix: a layerwise scaling"):
 *
 *   ε_p = ρ · a_p · g_p / ( sqrt( Σ_q b_q ‖g_q‖² ) + 1e-12 )
 *
 * 'mup2' takes a_p = b_p = m_p = fanOutMult / fanInMult: SAM's ascent step in the
 * geometry of µP-SGD (steepest ascent under Σ_p ‖ε_p‖² / m_p ≤ ρ²), so every
 * layer's perturbation scales like its µP update and perturbs its output by Θ(1).
 */
export function sam(options: SamOptions): PerturbationRule {
  const { rho, scaling = 'mup2' } = options ?? ({} as SamOptions);
  assertRadius(rho, 'sam');
  assertScaling(scaling, 'sam');
  return {
    specificationVersion: 'v1',
    name: 'sam',
    radius: rho,
    scaling,
    explicitScaling: options?.scaling !== undefined,
    selects: () => true,
    layerScale: samLayerScale(scaling),
    direction: ({ gradient }) => ({ direction: gradient, normTerm: gradient }),
  };
}
