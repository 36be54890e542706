import { deriveScaling, gaussianBatches, tinyMlpCoordModel } from '@mup2/coord';
import { expect, it } from 'vitest';
import { sam } from './sam.js';

// sam's µP² scaling (a_p = b_p = m_p), derived by measurement on the tiny µP MLP and compared with the
// one sam ships (docs/adding-a-rule.md, section 5). By hand: ‖g_p‖² goes like 1/m_p in µP, so
// a = b = r for the input layer and vectors, 1 for hidden layers, 1/r for the readout.
const BY_HAND = { input: 1, hidden: 0, output: -1, vector: 1 };

it('sam: the coordinate check derives the µP² scaling sam ships, within ±0.15 in every exponent', async () => {
  const derived = await deriveScaling(
    (scaling) => sam({ rho: 0.1, scaling }),
    tinyMlpCoordModel(),
    [64, 128, 256, 512, 1024],
    {
      data: gaussianBatches(),
    },
  );
  console.info(derived.summary);
  expect(derived.settled, derived.summary).toBe(true);
  expect(derived.verified, derived.summary).toBe(true);
  expect(derived.comparison.largestDifference, derived.summary).toBeLessThanOrEqual(0.15);
  for (const entry of derived.exponents) {
    expect(Math.abs(entry.measured.perturbation - BY_HAND[entry.role]), `${entry.role} a`).toBeLessThanOrEqual(0.15);
    expect(Math.abs(entry.measured.norm - BY_HAND[entry.role]), `${entry.role} b`).toBeLessThanOrEqual(0.15);
  }
}, 300_000);
