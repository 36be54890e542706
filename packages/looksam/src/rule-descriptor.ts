import { defineRule, InvalidOptionError } from '@mup2/core';
import { LOOKSAM_DEFAULTS, lookSam } from './looksam.js';

/** How the model zoo and the bench find and build this rule (docs/adding-a-rule.md). */
export const ruleDescriptor = defineRule({
  specificationVersion: 'v1',
  name: 'looksam',
  label: 'LookSAM',
  description:
    'LookSAM (Liu et al. 2022): a SAM step every k, the k − 1 between reuse its component g_v at an SGD step’s cost; mup2 as SAM',
  create: ({ rho, scaling, k, alpha, layerwise }) => {
    if (layerwise !== undefined && layerwise !== 0 && layerwise !== 1) {
      throw new InvalidOptionError(`looksam: option layerwise must be 0 or 1, got ${String(layerwise)}.`);
    }
    return lookSam({
      rho,
      scaling,
      ...(typeof k === 'number' && { k }),
      ...(typeof alpha === 'number' && { alpha }),
      ...(layerwise !== undefined && { layerwise: layerwise === 1 }),
    });
  },
  // SAM's radius in Table 2 of the µP² paper, at base width: LookSAM's full steps are SAM's.
  defaults: { rho: 0.05 },
  // One full step and k − 1 cheap ones: tools that time steps time k at a time.
  stepCycle: ({ k }) => (typeof k === 'number' ? k : LOOKSAM_DEFAULTS.k),
  options: {
    k: { description: 'a full SAM step every k steps', default: LOOKSAM_DEFAULTS.k },
    alpha: { description: 'α: steps between add α·(‖g‖/‖g_v‖)·g_v', default: LOOKSAM_DEFAULTS.alpha },
    layerwise: { description: '1: decompose each parameter on its own (kozistr/pytorch_optimizer)', default: 0 },
  },
});
