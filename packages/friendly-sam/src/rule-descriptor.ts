import { defineRule } from '@mup2/core';
import { FRIENDLY_SAM_DEFAULTS, friendlySam } from './friendly-sam.js';

/** How the model zoo and the bench find and build this rule (docs/adding-a-rule.md). */
export const ruleDescriptor = defineRule({
  specificationVersion: 'v1',
  name: 'friendly-sam',
  label: 'FriendlySAM',
  description:
    'FriendlySAM (Li et al. 2024): ε along g − σ·m, m the running mean of the gradient (state per parameter); mup2 as SAM',
  create: ({ rho, scaling, sigma, lambda }) =>
    friendlySam({
      rho,
      scaling,
      ...(typeof sigma === 'number' && { sigma }),
      ...(typeof lambda === 'number' && { lambda }),
    }),
  // SAM's radius in Table 2 of the µP² paper, at base width (the authors' run.sh uses 0.2 on CIFAR-100).
  defaults: { rho: 0.05 },
  options: {
    sigma: { description: "σ: the ascent follows g − σ·m (the authors' 1)", default: FRIENDLY_SAM_DEFAULTS.sigma },
    lambda: { description: 'λ: the running mean m ← λ·m + (1 − λ)·g', default: FRIENDLY_SAM_DEFAULTS.lambda },
  },
});
