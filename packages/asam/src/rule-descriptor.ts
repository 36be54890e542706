import { defineRule } from '@mup2/core';
import { ASAM_DEFAULT_ETA, asam } from './asam.js';

/** How the model zoo and the bench find and build this rule (docs/adding-a-rule.md). */
export const ruleDescriptor = defineRule({
  specificationVersion: 'v1',
  name: 'asam',
  label: 'elementwise ASAM',
  description:
    'elementwise ASAM (Kwon et al. 2021): ε = ρ·T²g/‖Tg‖ with T = |w| + η_T; mup2 scales ρ by √r (a parameter with no growing dimension, such as a readout bias: r^-1/2, its normaliser term 1/r) and η_T per layer',
  create: ({ rho, scaling, eta, normalizeBias }) =>
    asam({
      rho,
      scaling,
      ...(typeof eta === 'number' && { eta }),
      ...(typeof normalizeBias === 'number' && { normalizeBias: normalizeBias !== 0 }),
    }),
  // Table 2 of the paper, at base width.
  defaults: { rho: 0.5 },
  options: {
    eta: { description: 'η_T, the offset in T = |w| + η_T (ASAM paper: 0.01)', default: ASAM_DEFAULT_ETA },
    normalizeBias: {
      description: '1: T on biases and norm offsets too (SAM-ON --normalize_bias); 0: weights only (SamsungLabs/ASAM)',
      default: 1,
    },
  },
});
