import type { ParamSpec } from './param-spec.js';
import { sgdMultiplier } from './param-spec.js';
import type { LayerScale, PerturbationScaling } from './perturbation-rule.js';

/**
 * The layer scales of a rule whose ε is a normalised gradient, as SAM's (SAM, SAM-ON, GSAM,
 * FriendlySAM, LookSAM): 'naive' a = b = 1; 'global' a = r^(−1/2), b = 1 (µP-global); 'mup2'
 * a = b = m_p, the parameter's µP SGD multiplier (input r, hidden 1, output 1/r, vector r) — SAM's
 * ascent in the geometry of µP-SGD, under which every layer's perturbation moves its output by Θ(1)
 * at every width (docs/mup2-explained.md). A rule whose direction or normaliser differs (ASAM's
 * T⊙g) has exponents of its own: derive them with @mup2/coord's deriveScaling.
 */
export function samLayerScale(scaling: PerturbationScaling): (spec: ParamSpec, widthMultiplier: number) => LayerScale {
  return (spec, widthMultiplier) => {
    if (scaling === 'global') return { perturbation: widthMultiplier ** -0.5, norm: 1 };
    if (scaling === 'mup2') {
      const multiplier = sgdMultiplier(spec);
      return { perturbation: multiplier, norm: multiplier };
    }
    return { perturbation: 1, norm: 1 };
  };
}
