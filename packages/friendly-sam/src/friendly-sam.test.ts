import { InvalidOptionError, InvalidRhoError } from '@mup2/core';
import {
  FLOAT64_MLP_NAMES,
  type Float64MlpName,
  type Float64MlpParams,
  float64LossAndGradients,
  runTinyMlpSteps,
  updateErrors,
} from '@mup2/core/testing';
import { describe, expect, it } from 'vitest';
import { friendlySam } from './friendly-sam.js';

const BASE_WIDTH = 4;
const LR = 0.5;

/** m_p = fanOutMult / fanInMult of the tiny MLP, by hand: W1 input r, γ and b2 vectors r, W2 hidden 1, W3 output 1/r. */
const multipliers = (r: number): Record<Float64MlpName, number> => ({ W1: r, gamma: r, W2: 1, b2: r, W3: 1 / r });

type Options = { rho: number; sigma: number; lambda: number; scaling: 'naive' | 'global' | 'mup2' };

/**
 * FriendlySAM steps with a µP-SGD descent in float64, from Li et al. 2024 and the authors' code
 * (nblt/F-SAM): the first step D = g and m = g; later D = g − σ·m (m of the steps before) and then
 * m ← λ·m + (1 − λ)·g; ε = ρ·a_p·D_p / (sqrt(Σ b_q‖D_q‖²) + 1e-12); w ← w − η·m_p·g(w + ε).
 * Returns the weights after each step.
 */
function float64FriendlySteps(
  start: Float64MlpParams,
  batches: Array<{ x: Float64Array; labels: number[] }>,
  shape: { inputSize: number; width: number; classes: number },
  options: Options,
): Float64MlpParams[] {
  const r = shape.width / BASE_WIDTH;
  const m = multipliers(r);
  const a = (name: Float64MlpName) =>
    options.scaling === 'mup2' ? m[name] : options.scaling === 'global' ? 1 / Math.sqrt(r) : 1;
  const b = (name: Float64MlpName) => (options.scaling === 'mup2' ? m[name] : 1);
  let weights = start;
  let mean: Float64MlpParams | undefined;
  const results: Float64MlpParams[] = [];
  for (const data of batches) {
    const g = float64LossAndGradients(weights, data.x, data.labels, shape).gradients;
    const direction = {} as Float64MlpParams;
    for (const name of FLOAT64_MLP_NAMES) {
      direction[name] = g[name].map((value, i) => (mean ? value - options.sigma * (mean[name][i] as number) : value));
    }
    const previous = mean;
    mean = {} as Float64MlpParams;
    for (const name of FLOAT64_MLP_NAMES) {
      (mean as Float64MlpParams)[name] = g[name].map((value, i) =>
        previous ? options.lambda * (previous[name][i] as number) + (1 - options.lambda) * value : value,
      );
    }
    let normSquared = 0;
    for (const name of FLOAT64_MLP_NAMES) for (const value of direction[name]) normSquared += b(name) * value * value;
    const scale = options.rho / (Math.sqrt(normSquared) + 1e-12);
    const perturbed = {} as Float64MlpParams;
    for (const name of FLOAT64_MLP_NAMES) {
      perturbed[name] = weights[name].map((w, i) => w + scale * a(name) * (direction[name][i] as number));
    }
    const gp = float64LossAndGradients(perturbed, data.x, data.labels, shape).gradients;
    const next = {} as Float64MlpParams;
    for (const name of FLOAT64_MLP_NAMES)
      next[name] = weights[name].map((w, i) => w - LR * m[name] * (gp[name][i] as number));
    weights = next;
    results.push(next);
  }
  return results;
}

describe('friendlySam() steps against a float64 computation (state across steps)', () => {
  for (const scaling of ['naive', 'global', 'mup2'] as const) {
    it(`matches over 4 steps at width multiplier 4 with scaling '${scaling}'`, () => {
      const options: Options = { rho: 0.3, sigma: 1, lambda: 0.6, scaling };
      const run = runTinyMlpSteps({
        rule: friendlySam(options),
        width: 16,
        baseWidth: BASE_WIDTH,
        learningRate: LR,
        steps: 4,
      });
      expect(run.tensorGrowth, 'tensors held after step 4 beyond step 1').toBe(0);
      const expected = float64FriendlySteps(run.start, run.data, run.shape, options);
      // Each step's update, from the float32 weights before it, against the float64 run's weights after it.
      run.results.forEach((result, step) => {
        const from = step === 0 ? run.start : (run.results[step - 1] as Float64MlpParams);
        const errors = updateErrors(from, result, expected[step] as Float64MlpParams);
        for (const [name, { scale, relativeError }] of Object.entries(errors)) {
          expect(scale, `step ${step + 1}: ${name} must move`).toBeGreaterThan(0);
          expect(relativeError, `step ${step + 1}: ${name}, error relative to the largest update`).toBeLessThan(5e-3);
        }
      });
    });
  }

  it('uses its mean: with σ = 0 every step is SAM, with σ = 1 steps after the first differ', () => {
    const run = (sigma: number) =>
      runTinyMlpSteps({
        rule: friendlySam({ rho: 0.3, sigma, scaling: 'mup2' }),
        width: 16,
        baseWidth: BASE_WIDTH,
        learningRate: LR,
        steps: 2,
      });
    const [plain, friendly] = [run(0), run(1)];
    const gap = (step: number) =>
      Math.max(
        ...FLOAT64_MLP_NAMES.map((name) =>
          Math.max(
            ...(plain.results[step] as Float64MlpParams)[name].map((value, i) =>
              Math.abs(value - ((friendly.results[step] as Float64MlpParams)[name][i] as number)),
            ),
          ),
        ),
      );
    expect(gap(0), 'the first step has no mean yet: both are SAM').toBe(0);
    expect(gap(1)).toBeGreaterThan(1e-5);
  });
});

describe('friendlySam() options', () => {
  it('rejects a negative, NaN or infinite rho, naming the value', () => {
    for (const rho of [-0.1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => friendlySam({ rho })).toThrowError(InvalidRhoError);
      expect(() => friendlySam({ rho })).toThrowError(String(rho));
    }
  });

  it('rejects a bad sigma or lambda, naming the value', () => {
    for (const sigma of [-1, Number.NaN])
      expect(() => friendlySam({ rho: 0.1, sigma })).toThrowError(`sigma must be a finite number >= 0, got ${sigma}`);
    for (const lambda of [-0.1, 1, 2, Number.NaN])
      expect(() => friendlySam({ rho: 0.1, lambda })).toThrowError(`lambda must be a number in [0, 1), got ${lambda}`);
    expect(() => friendlySam({ rho: 0.1, lambda: 1 })).toThrowError(InvalidOptionError);
  });

  it('rejects an unknown scaling, listing the known ones', () => {
    expect(() => friendlySam({ rho: 0.1, scaling: 'layerwise' as never })).toThrowError(InvalidOptionError);
    expect(() => friendlySam({ rho: 0.1, scaling: 'layerwise' as never })).toThrowError(/'naive', 'global', 'mup2'/);
  });

  it("declares its name, radius, interface v2 and scaling (default 'mup2')", () => {
    const rule = friendlySam({ rho: 0.05 });
    expect(rule.name).toBe('friendly-sam');
    expect(rule.radius).toBe(0.05);
    expect(rule.scaling).toBe('mup2');
    expect(rule.specificationVersion).toBe('v2');
  });
});
