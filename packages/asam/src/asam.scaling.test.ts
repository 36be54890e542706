import { compareExponents, coordCheck, deriveScaling, gaussianBatches, tinyMlpCoordModel } from '@mup2/coord';
import type { ParamRole, PerturbationRuleV1, PerturbationScaling } from '@mup2/core';
import * as tf from '@tensorflow/tfjs';
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

/**
 * A tfjs-layers MLP 16→n→n→10 whose only vector is the readout bias, which has one entry per class at
 * every width. Fan-in initialisers (tfjs-layers' default glorot is not µP's for the first layer, whose
 * fan-out grows), seeded per model so that the check is the same on every run.
 */
const readoutBiasMlp = (width: number, { seed }: { seed: number }) =>
  tf.sequential({
    layers: [
      tf.layers.dense({
        units: width,
        inputShape: [16],
        activation: 'relu',
        useBias: false,
        kernelInitializer: tf.initializers.heNormal({ seed: 3 * seed + width }),
      }),
      tf.layers.dense({
        units: width,
        activation: 'relu',
        useBias: false,
        kernelInitializer: tf.initializers.heNormal({ seed: 5 * seed + width }),
      }),
      tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.leCunNormal({ seed: 7 * seed + width }) }),
    ],
  });

/** asam as shipped before: a = √r, b = 1 on every parameter under 'mup2'. */
const uniformAsam = (scaling: PerturbationScaling): PerturbationRuleV1 => {
  const rule = asam({ rho: 0.1, scaling }) as PerturbationRuleV1;
  return {
    ...rule,
    layerScale: (spec, r) => (scaling === 'mup2' ? { perturbation: Math.sqrt(r), norm: 1 } : rule.layerScale(spec, r)),
  };
};

// The readout starts at zero (µP's 'zero' readout, the paper's ResNets and ViTs): with the scaled one the
// logits at init shrink with width, and at these widths the readout bias's gradient still shrinks with them.
const readoutBiasSettings = { layers: { readout: 'zero' as const }, seeds: 2 };

describe('asam µP² on a parameter with no growing dimension: the readout bias', () => {
  it("keeps the readout bias's effective perturbation flat (coordinate check, widths 32…256), where a = √r made it grow", async () => {
    const tensors = tf.memory().numTensors;
    const check = (rule: (scaling: PerturbationScaling) => PerturbationRuleV1 | ReturnType<typeof asam>) =>
      coordCheck({
        model: readoutBiasMlp,
        widths: [32, 64, 128, 256],
        rule,
        data: gaussianBatches(16, 32, 10),
        presets: ['mup2'],
        ...readoutBiasSettings,
      });
    const slopes = async (rule: Parameters<typeof check>[0]) =>
      new Map(
        (await check(rule)).slopes
          .filter((slope) => slope.quantity === 'perturbation')
          .map((slope) => [slope.layer, slope.slope]),
      );
    const shipped = await slopes((scaling) => asam({ rho: 0.1, scaling }));
    const before = await slopes(uniformAsam);
    expect(tf.memory().numTensors).toBe(tensors);
    const summary = JSON.stringify({ shipped: Object.fromEntries(shipped), before: Object.fromEntries(before) });
    expect([...shipped.keys()], summary).toEqual(['dense1/kernel', 'dense2/kernel', 'dense3/kernel', 'dense3/bias']);
    for (const [layer, slope] of shipped) expect(Math.abs(slope), `${layer}: ${summary}`).toBeLessThanOrEqual(0.3);
    // Theory: ε of the bias ∝ √r · Θ(1) / Θ(n^-1/2) = Θ(n).
    expect(before.get('dense3/bias'), summary).toBeGreaterThan(0.7);
  });

  it('deriveScaling measures a = b = 1 for it (every growing parameter a = b = r), the shipped scaling up to the factor r^1/2', async () => {
    const derived = await deriveScaling((scaling) => asam({ rho: 0.1, scaling }), readoutBiasMlp, WIDTHS, {
      data: gaussianBatches(16, 64, 10),
      ...readoutBiasSettings,
    });
    console.info(derived.summary);
    const expected: Record<ParamRole, number> = { input: 1, hidden: 1, output: 1, vector: 0 };
    for (const entry of derived.exponents) {
      expect(Math.abs(entry.measured.perturbation - expected[entry.role]), `${entry.role} a`).toBeLessThanOrEqual(0.15);
      expect(Math.abs(entry.measured.norm - expected[entry.role]), `${entry.role} b`).toBeLessThanOrEqual(0.15);
    }
    expect(derived.exponents.map((entry) => entry.role).sort()).toEqual(['hidden', 'input', 'output', 'vector']);
    expect(derived.comparison.gauge).toBeCloseTo(0.5, 0);
    expect(derived.comparison.largestDifference, derived.summary).toBeLessThanOrEqual(0.15);
    // The readout bias's exponents settle. The growing weights' normaliser exponents may still bend at these
    // widths (about −0.8 over the narrower, −1.1 over the wider, from the zero readout): the tiny-MLP test above
    // derives them settled.
    expect(derived.exponents.find((entry) => entry.role === 'vector')?.settled, derived.summary).toBe(true);
    expect(derived.verified, derived.summary).toBe(true);
    // Against the scaling asam shipped before (a = √r, b = 1 for every role), the same measurement disagrees.
    const measured = new Map(derived.exponents.map((entry) => [entry.role, entry.measured]));
    const uniform = new Map(derived.exponents.map((entry) => [entry.role, { perturbation: 0.5, norm: 0 }]));
    expect(compareExponents(measured, uniform).largestDifference).toBeGreaterThan(0.5);
  }, 300_000);
});
