import { deriveScaling, gaussianBatches, tinyMlpCoordModel } from '@mup2/coord';
import { describe, expect, it } from 'vitest';
import { asam } from './asam.js';

const WIDTHS = [64, 128, 256, 512, 1024];

describe("asam's µP² scaling by measurement (docs/adding-a-rule.md, section 5)", () => {
  it('the coordinate check derives the scaling asam ships, up to the factor that leaves ε unchanged, within ±0.15', async () => {
    const derived = await deriveScaling((scaling) => asam({ rho: 0.1, scaling }), tinyMlpCoordModel(), WIDTHS, {
      data: gaussianBatches(),
    });
    console.info(derived.summary);
    // By hand: every ‖T_p ⊙ g_p‖² goes like 1/n and T²g falls short of the µP update by the same factor,
    // so a = b = r for every role, which is the shipped a = √r, b = 1 times r^(1/2) on a and r on b.
    for (const entry of derived.exponents) {
      expect(Math.abs(entry.measured.perturbation - 1), `${entry.role} a`).toBeLessThanOrEqual(0.15);
      expect(Math.abs(entry.measured.norm - 1), `${entry.role} b`).toBeLessThanOrEqual(0.15);
    }
    expect(derived.comparison.gauge).toBeCloseTo(0.5, 0);
    expect(derived.comparison.largestDifference, derived.summary).toBeLessThanOrEqual(0.15);
    expect(derived.settled, derived.summary).toBe(true);
    expect(derived.verified, derived.summary).toBe(true);
  }, 300_000);

  it("says plainly that the exponents do not settle when η_T is left unscaled across the weights' |w|", async () => {
    // η_T = 0.06 sits between the hidden weights' |w| at width 64 (≈ 0.12) and at 1024 (≈ 0.03): T changes
    // from |w| to η_T across the widths, so the exponents bend. The shipped 'mup2' scales η_T with the layer.
    const derived = await deriveScaling(
      (scaling) => asam({ rho: 0.1, eta: 0.06, scaling }),
      tinyMlpCoordModel(),
      WIDTHS,
      { data: gaussianBatches(), directionScaling: 'naive' },
    );
    expect(derived.settled).toBe(false);
    expect(derived.summary).toMatch(/did NOT settle/);
    expect(derived.exponents.find((entry) => entry.role === 'output')?.unsettledBecause).toMatch(
      /slope changes with width/,
    );
    expect(derived.comparison.largestDifference).toBeGreaterThan(0.5);
  }, 300_000);
});
