import { defineRule } from '@mup2/core';
import { sam } from './sam.js';

/** How the model zoo and the bench find and build this rule (docs/adding-a-rule.md). */
export const ruleDescriptor = defineRule({
  specificationVersion: 'v1',
  name: 'sam',
  label: 'SAM',
  description:
    'SAM (Foret et al. 2021): ε = ρ·g/‖g‖ over every parameter; mup2 scales layer p by its µP-SGD multiplier',
  create: ({ rho, scaling }) => sam({ rho, scaling }),
  // Table 2 of the paper, at base width.
  defaults: { rho: 0.05 },
});
