import { defineRule } from '@mup2/core';
import { GSAM_DEFAULT_ALPHA, gsam } from './gsam.js';

/** How the model zoo and the bench find and build this rule (docs/adding-a-rule.md). */
export const ruleDescriptor = defineRule({
  specificationVersion: 'v1',
  name: 'gsam',
  label: 'GSAM',
  description:
    "GSAM (Zhuang et al. 2022): SAM's ε, descent g' − α·g⊥ (the gradient at w orthogonal to g'); mup2 as SAM, in µP's geometry",
  create: ({ rho, scaling, alpha }) => gsam({ rho, scaling, ...(typeof alpha === 'number' && { alpha }) }),
  // SAM's radius in Table 2 of the µP² paper, at base width: GSAM's ascent is SAM's.
  defaults: { rho: 0.05 },
  options: {
    alpha: {
      description: "α, the weight of the surrogate-gap term in the descent g' − α·g⊥",
      default: GSAM_DEFAULT_ALPHA,
    },
  },
});
