import { defineRule } from '@mup2/core';
import { samOn } from './sam-on.js';

/** How the model zoo and the bench find and build this rule (docs/adding-a-rule.md). */
export const ruleDescriptor = defineRule({
  specificationVersion: 'v1',
  name: 'sam-on',
  label: 'SAM-ON',
  description: 'SAM-ON (Müller et al. 2023): SAM on the normalization gains and offsets only; mup2 is ρ·√r',
  create: ({ rho, scaling }) => samOn({ rho, scaling }),
  // Table 2 of the paper, at base width.
  defaults: { rho: 0.5 },
});
