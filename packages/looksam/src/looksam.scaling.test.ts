import { deriveScaling, gaussianBatches, tinyMlpCoordModel } from '@mup2/coord';
import { expect, it } from 'vitest';
import { lookSam } from './looksam.js';

// The µP² scaling of looksam, derived by measurement (docs/adding-a-rule.md, section 5):
// on the tiny µP MLP at widths 64…1024, the width exponents that make every layer's normaliser term
// and effective perturbation Θ(1), verified by a rerun and compared with the 'mup2' scaling the rule
// ships. Change the rule's D_p or N_p and this says whether its layerScale still fits, and how to fix it.
// The derivation measures how the rule's quantities scale with width, which no backend changes (the float64
// step tests check the arithmetic on both): it runs on wasm only, to spare CI a minute per rule.
it.skipIf(process.env.MUP2_BACKEND === 'tensorflow')(
  'looksam: the coordinate check derives the µP² scaling the rule ships',
  async () => {
    const derived = await deriveScaling(
      (scaling) => lookSam({ rho: 0.1, scaling }),
      tinyMlpCoordModel(),
      [64, 128, 256, 512, 1024],
      { data: gaussianBatches() },
    );
    console.info(derived.summary);
    expect(derived.settled, derived.summary).toBe(true);
    expect(derived.verified, derived.summary).toBe(true);
    expect(derived.comparison.largestDifference, derived.summary).toBeLessThanOrEqual(0.15);
  },
  300_000,
);
