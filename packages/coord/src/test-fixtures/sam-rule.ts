import { type PerturbationRule, type PerturbationScaling, sgdMultiplier } from '@mup2/core';

/**
 * Test fixture: SAM in the form of docs/mup2-explained.md (D = N = g; 'global' a = r^-1/2;
 * 'mup2' a = b = m_p), written here so that this package's tests need no rule package.
 */
export function samRule(rho: number, scaling: PerturbationScaling): PerturbationRule {
  return {
    specificationVersion: 'v1',
    name: 'sam-fixture',
    radius: rho,
    scaling,
    selects: () => true,
    layerScale: (spec, r) => {
      if (scaling === 'global') return { perturbation: r ** -0.5, norm: 1 };
      if (scaling === 'mup2') return { perturbation: sgdMultiplier(spec), norm: sgdMultiplier(spec) };
      return { perturbation: 1, norm: 1 };
    },
    direction: ({ gradient }) => ({ direction: gradient, normTerm: gradient }),
  };
}
