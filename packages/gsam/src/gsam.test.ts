import { InvalidOptionError, InvalidRhoError } from '@mup2/core';
import {
  FLOAT64_MLP_NAMES,
  type Float64MlpName,
  type Float64MlpParams,
  float64LossAndGradients,
  runTinyMlpStep,
  updateErrors,
} from '@mup2/core/testing';
import { describe, expect, it } from 'vitest';
import { gsam } from './gsam.js';

const BASE_WIDTH = 4;
const LR = 0.5;

/** m_p = fanOutMult / fanInMult of the tiny MLP, by hand: W1 input r, γ and b2 vectors r, W2 hidden 1, W3 output 1/r. */
const multipliers = (r: number): Record<Float64MlpName, number> => ({ W1: r, gamma: r, W2: 1, b2: r, W3: 1 / r });

/**
 * One GSAM step with a µP-SGD descent in float64, from Zhuang et al. 2022 (Algorithm 1) and the
 * µP² geometry of this package: ε = ρ·a_p·g_p / (‖g‖_b + 1e-12); g' at w + ε;
 * g⊥ = g − (⟨g, g'⟩_b / ‖g'‖²_b)·g' with ⟨u, v⟩_b = Σ_p b_p⟨u_p, v_p⟩; w ← w − η·m_p·(g' − α·g⊥).
 * naive a = b = 1; global a = r^-1/2, b = 1; mup2 a = b = m_p.
 */
function float64GsamStep(
  start: Float64MlpParams,
  data: { x: Float64Array; labels: number[] },
  shape: { inputSize: number; width: number; classes: number },
  options: { rho: number; alpha: number; scaling: 'naive' | 'global' | 'mup2' },
): Float64MlpParams {
  const r = shape.width / BASE_WIDTH;
  const m = multipliers(r);
  const a = (name: Float64MlpName) =>
    options.scaling === 'mup2' ? m[name] : options.scaling === 'global' ? 1 / Math.sqrt(r) : 1;
  const b = (name: Float64MlpName) => (options.scaling === 'mup2' ? m[name] : 1);
  const dot = (u: Float64MlpParams, v: Float64MlpParams) => {
    let sum = 0;
    for (const name of FLOAT64_MLP_NAMES)
      u[name].forEach((value, i) => {
        sum += b(name) * value * (v[name][i] as number);
      });
    return sum;
  };
  const g = float64LossAndGradients(start, data.x, data.labels, shape).gradients;
  const scale = options.rho / (Math.sqrt(dot(g, g)) + 1e-12);
  const perturbed = {} as Float64MlpParams;
  for (const name of FLOAT64_MLP_NAMES)
    perturbed[name] = start[name].map((w, i) => w + scale * a(name) * (g[name][i] as number));
  const gp = float64LossAndGradients(perturbed, data.x, data.labels, shape).gradients;
  const projection = dot(g, gp) / dot(gp, gp);
  const next = {} as Float64MlpParams;
  for (const name of FLOAT64_MLP_NAMES) {
    next[name] = start[name].map((w, i) => {
      const orthogonal = (g[name][i] as number) - projection * (gp[name][i] as number);
      return w - LR * m[name] * ((gp[name][i] as number) - options.alpha * orthogonal);
    });
  }
  return next;
}

function expectUpdatesClose(start: Float64MlpParams, actual: Float64MlpParams, expected: Float64MlpParams) {
  for (const [name, { scale, relativeError }] of Object.entries(updateErrors(start, actual, expected))) {
    expect(scale, `${name} must move`).toBeGreaterThan(0);
    expect(relativeError, `${name}: largest error relative to the largest update`).toBeLessThan(2e-3);
  }
}

describe('gsam() step against a float64 computation', () => {
  for (const scaling of ['naive', 'global', 'mup2'] as const) {
    it(`matches at width multiplier 4 with scaling '${scaling}'`, () => {
      const rho = 0.3;
      const alpha = 0.4;
      const step = runTinyMlpStep({
        rule: gsam({ rho, alpha, scaling }),
        width: 16,
        baseWidth: BASE_WIDTH,
        learningRate: LR,
      });
      expect(step.leakedTensors).toBe(0);
      expectUpdatesClose(
        step.start,
        step.result,
        float64GsamStep(step.start, step.data, step.shape, { rho, alpha, scaling }),
      );
    });
  }

  it('subtracts the surrogate-gap term: α = 0.4 and α = 0 step differently, and α = 0 is SAM', () => {
    const run = (alpha: number) =>
      runTinyMlpStep({
        rule: gsam({ rho: 0.3, alpha, scaling: 'mup2' }),
        width: 16,
        baseWidth: BASE_WIDTH,
        learningRate: LR,
      });
    const [plain, guided] = [run(0), run(0.4)] as const;
    expectUpdatesClose(
      plain.start,
      plain.result,
      float64GsamStep(plain.start, plain.data, plain.shape, { rho: 0.3, alpha: 0, scaling: 'mup2' }),
    );
    const gap = Math.max(
      ...FLOAT64_MLP_NAMES.map((name) =>
        Math.max(...plain.result[name].map((value, i) => Math.abs(value - (guided.result[name][i] as number)))),
      ),
    );
    expect(gap).toBeGreaterThan(1e-5);
  });
});

describe('gsam() options', () => {
  it('rejects a negative, NaN or infinite rho, naming the value', () => {
    for (const rho of [-0.1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => gsam({ rho })).toThrowError(InvalidRhoError);
      expect(() => gsam({ rho })).toThrowError(String(rho));
    }
  });

  it('rejects a negative or non-finite alpha, naming the value', () => {
    for (const alpha of [-0.1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => gsam({ rho: 0.1, alpha })).toThrowError(InvalidOptionError);
      expect(() => gsam({ rho: 0.1, alpha })).toThrowError(`got ${String(alpha)}`);
    }
  });

  it('rejects an unknown scaling, listing the known ones', () => {
    expect(() => gsam({ rho: 0.1, scaling: 'layerwise' as never })).toThrowError(InvalidOptionError);
    expect(() => gsam({ rho: 0.1, scaling: 'layerwise' as never })).toThrowError(/'naive', 'global', 'mup2'/);
  });

  it("declares its name, radius, interface v2 and scaling (default 'mup2')", () => {
    const rule = gsam({ rho: 0.05 });
    expect(rule.name).toBe('gsam');
    expect(rule.radius).toBe(0.05);
    expect(rule.scaling).toBe('mup2');
    expect(rule.specificationVersion).toBe('v2');
  });
});
