import { deriveScaling, gaussianBatches, tinyMlpCoordModel } from '@mup2/coord';
import { expect, it } from 'vitest';
import { samOn } from './sam-on.js';

// samOn's µP² scaling (a_p = b_p = m_p = r over the norm gains), derived by measurement on the tiny µP
// MLP and compared with the one it ships (docs/adding-a-rule.md, section 5). By hand: a norm gain's
// ‖g‖² goes like 1/n and its µP update is Θ(1), so a = b = r.
it('samOn: the coordinate check derives the µP² scaling samOn ships, within ±0.15 in every exponent', async () => {
  const derived = await deriveScaling(
    (scaling) => samOn({ rho: 0.1, scaling }),
    tinyMlpCoordModel(),
    [64, 128, 256, 512, 1024],
    { data: gaussianBatches() },
  );
  console.info(derived.summary);
  expect(derived.exponents.map((entry) => entry.role)).toEqual(['vector']);
  const [gain] = derived.exponents;
  expect(Math.abs((gain?.measured.perturbation ?? Number.NaN) - 1)).toBeLessThanOrEqual(0.15);
  expect(Math.abs((gain?.measured.norm ?? Number.NaN) - 1)).toBeLessThanOrEqual(0.15);
  expect(derived.settled, derived.summary).toBe(true);
  expect(derived.verified, derived.summary).toBe(true);
  expect(derived.comparison.largestDifference, derived.summary).toBeLessThanOrEqual(0.15);
}, 300_000);
