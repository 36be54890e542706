import {
  assertRadius,
  assertScaling,
  type ParamSpec,
  type PerturbationRule,
  type PerturbationScaling,
  samLayerScale,
} from '@mup2/core';

/** Options of samOn(). */
export interface SamOnOptions {
  /** The radius ρ (≥ 0), as in the SAM-ON literature at base width. */
  readonly rho: number;
  /**
   * 'naive': ε = ρ·g/‖g‖ over the norm parameters (standard SAM-ON); 'global': ρ·r^(-1/2)
   * (µP-global); 'mup2' (default): the µP² scaling a_p = b_p = m_p over the norm parameters.
   * All three are the same at width multiplier 1.
   */
  readonly scaling?: PerturbationScaling;
}

/**
 * SAM-ON (Müller et al. 2023): SAM restricted to the normalization layers' gains and
 * offsets (the ParamSpecs with `norm: true`), with the µP² scalings of docs/mup2-explained.md ("The fix: a layerwise scaling"):
 *
 *   ε_p = ρ · a_p · g_p / ( sqrt( Σ_{q norm} b_q ‖g_q‖² ) + 1e-12 )   for norm parameters p
 *
 * 'mup2' takes a_p = b_p = m_p: the norm parameters are vectors (m_p = r), so this is ρ·√r·g/‖g‖,
 * and each gain's perturbation scales like its µP update.
 * SamOptimizer backpropagates the ascent pass to the norm parameters only.
 */
export function samOn(options: SamOnOptions): PerturbationRule {
  const { rho, scaling = 'mup2' } = options ?? ({} as SamOnOptions);
  assertRadius(rho, 'samOn');
  assertScaling(scaling, 'samOn');
  return {
    specificationVersion: 'v1',
    name: 'sam-on',
    radius: rho,
    scaling,
    explicitScaling: options?.scaling !== undefined,
    selects: (spec: ParamSpec) => spec.norm,
    layerScale: samLayerScale(scaling),
    direction: ({ gradient }) => ({ direction: gradient, normTerm: gradient }),
  };
}
