import { asam } from '@mup2/asam';
import type { ParamRole, PerturbationScaling } from '@mup2/core';
import { sam } from '@mup2/sam';
import { samOn } from '@mup2/sam-on';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { deriveScaling } from './derive-scaling.js';
import { gaussianBatches, tinyMlpModel } from './test-fixtures/tiny-mlp-model.js';

const WIDTHS = [64, 128, 256, 512, 1024];
const data = gaussianBatches(32, 64);

/**
 * The exponents of a_p and b_p in r that make every term b_p‖N_p‖² and every effective perturbation
 * Θ(1), worked out by hand from µP's sizes (docs/adding-a-rule.md, section 5): SAM's ‖g_p‖² goes like
 * 1/m_p, so a = b = m_p (input r, hidden 1, output 1/r, vector r); ASAM's ‖T_p ⊙ g_p‖² goes like 1/n
 * for every role and T²g falls short of the µP update by the same factor, so a = b = r everywhere
 * (the shipped a = √r, b = 1 is the same ε); SAM-ON's norm gains are vectors, a = b = r.
 */
const EXPECTED: Record<string, Partial<Record<ParamRole, { perturbation: number; norm: number }>>> = {
  sam: {
    input: { perturbation: 1, norm: 1 },
    hidden: { perturbation: 0, norm: 0 },
    output: { perturbation: -1, norm: -1 },
    vector: { perturbation: 1, norm: 1 },
  },
  asam: {
    input: { perturbation: 1, norm: 1 },
    hidden: { perturbation: 1, norm: 1 },
    output: { perturbation: 1, norm: 1 },
    vector: { perturbation: 1, norm: 1 },
  },
  'sam-on': { vector: { perturbation: 1, norm: 1 } },
};

const RULES = {
  sam: (scaling: PerturbationScaling) => sam({ rho: 0.1, scaling }),
  asam: (scaling: PerturbationScaling) => asam({ rho: 0.1, scaling }),
  'sam-on': (scaling: PerturbationScaling) => samOn({ rho: 0.1, scaling }),
};

describe('deriveScaling on the tiny µP MLP 32→n→n→3, widths 64…1024', () => {
  const printed: string[] = [];
  for (const [name, rule] of Object.entries(RULES)) {
    it(`recovers ${name}'s µP² exponents within ±0.15, settled and verified, with no tensor left behind`, async () => {
      const before = tf.memory().numTensors;
      const derived = await deriveScaling(rule, tinyMlpModel(32, 64), WIDTHS, { data });
      expect(tf.memory().numTensors).toBe(before);
      const expected = EXPECTED[name] ?? {};
      expect(derived.exponents.map((entry) => entry.role).sort()).toEqual(Object.keys(expected).sort());
      for (const entry of derived.exponents) {
        const want = expected[entry.role];
        expect(
          Math.abs(entry.measured.perturbation - (want?.perturbation ?? Number.NaN)),
          `${name} ${entry.role} a`,
        ).toBeLessThanOrEqual(0.15);
        expect(
          Math.abs(entry.measured.norm - (want?.norm ?? Number.NaN)),
          `${name} ${entry.role} b`,
        ).toBeLessThanOrEqual(0.15);
        expect(entry.perturbation).toBe(want?.perturbation);
        expect(entry.norm).toBe(want?.norm);
      }
      // The shipped 'mup2' scaling, read from the rule's own layerScale, agrees up to the common factor.
      expect(derived.comparison.largestDifference, derived.summary).toBeLessThanOrEqual(0.15);
      expect(derived.comparison.gauge).toBeCloseTo(name === 'asam' ? 0.5 : 0, 0);
      expect(derived.settled, derived.summary).toBe(true);
      expect(derived.verified, derived.summary).toBe(true);
      expect(derived.summary).toMatch(/^.*derived µP² scaling/);
      expect(derived.summary).not.toMatch(/NOT/);
      for (const entry of derived.comparison.roles) {
        printed.push(
          `| ${name} | ${entry.role} | ${entry.reference.perturbation} / ${entry.reference.norm} | ` +
            `${entry.derived.perturbation.toFixed(2)} / ${entry.derived.norm.toFixed(2)} | ${derived.comparison.gauge.toFixed(2)} |`,
        );
      }
      if (name === 'sam-on') {
        console.info(
          `[deriveScaling] shipped vs derived exponents (a / b, derived moved by the common factor r^γ):\n` +
            `| rule | role | shipped | derived | γ |\n|---|---|---|---|---|\n${printed.join('\n')}`,
        );
      }
    }, 240_000);
  }

  it("says plainly that the exponents do not settle when ASAM's η_T is left unscaled across the |w| scale", async () => {
    // η_T = 0.06 sits between the hidden weights' |w| at width 64 (≈ 0.12) and at 1024 (≈ 0.03): T changes from
    // |w| to η_T across the widths, so the normaliser and perturbation exponents bend.
    const derived = await deriveScaling(
      (scaling) => asam({ rho: 0.1, eta: 0.06, scaling }),
      tinyMlpModel(32, 64),
      WIDTHS,
      {
        data,
        directionScaling: 'naive',
      },
    );
    expect(derived.settled).toBe(false);
    expect(derived.summary).toMatch(/did NOT settle/);
    expect(derived.exponents.find((entry) => entry.role === 'output')?.unsettledBecause).toMatch(
      /slope changes with width/,
    );
    // And it differs from the shipped scaling, which scales η_T.
    expect(derived.comparison.largestDifference).toBeGreaterThan(0.5);
  }, 240_000);

  it('names a bad argument', async () => {
    await expect(deriveScaling(RULES.sam, tinyMlpModel(32, 64), [64], { data })).rejects.toThrowError(
      /widths must be at least two positive numbers, got \[64\]/,
    );
    await expect(deriveScaling(RULES.sam, tinyMlpModel(32, 64), WIDTHS, { data, step: 0 })).rejects.toThrowError(
      /step must be a positive number, got 0/,
    );
  });
});
