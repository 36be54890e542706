import { InvalidOptionError, InvalidRhoError, muSgd, SamOptimizer } from '@mup2/core';
import {
  createTinyMlp,
  FLOAT64_MLP_NAMES,
  type Float64MlpName,
  type Float64MlpParams,
  float64Batch,
  float64Init,
  float64LossAndGradients,
  runTinyMlpSteps,
  updateErrors,
} from '@mup2/core/testing';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { lookSam } from './looksam.js';

const BASE_WIDTH = 4;
const LR = 0.5;

/** m_p = fanOutMult / fanInMult of the tiny MLP, by hand: W1 input r, γ and b2 vectors r, W2 hidden 1, W3 output 1/r. */
const multipliers = (r: number): Record<Float64MlpName, number> => ({ W1: r, gamma: r, W2: 1, b2: r, W3: 1 / r });

type Options = { rho: number; k: number; alpha: number; layerwise: boolean; scaling: 'naive' | 'global' | 'mup2' };

/**
 * LookSAM steps with a µP-SGD descent in float64, from Liu et al. 2022 (Algorithm 1): a full SAM
 * step every k-th step (and while no g_v is kept), which keeps g_v = g_s − (⟨g, g_s⟩/‖g‖²)·g and
 * descends along g_s; the steps between descend along g + α·(‖g‖/‖g_v‖)·g_v. Inner products are
 * Σ_p b_p⟨·,·⟩ over all parameters, or each parameter's own with `layerwise`. Weights after each step.
 */
function float64LookSamSteps(
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
  /** ⟨u, v⟩ for parameter `name`: its own, or the sum over all of them weighted by b. */
  const dot = (u: Float64MlpParams, v: Float64MlpParams, name: Float64MlpName) => {
    const names = options.layerwise ? [name] : FLOAT64_MLP_NAMES;
    let sum = 0;
    for (const n of names)
      u[n].forEach((value, i) => {
        sum += (options.layerwise ? 1 : b(n)) * value * (v[n][i] as number);
      });
    return sum;
  };
  let weights = start;
  let orthogonal: Float64MlpParams | undefined;
  const results: Float64MlpParams[] = [];
  batches.forEach((data, step) => {
    const g = float64LossAndGradients(weights, data.x, data.labels, shape).gradients;
    const descent = {} as Float64MlpParams;
    if (step % options.k === 0 || orthogonal === undefined) {
      let normSquared = 0;
      for (const name of FLOAT64_MLP_NAMES) for (const value of g[name]) normSquared += b(name) * value * value;
      const scale = options.rho / (Math.sqrt(normSquared) + 1e-12);
      const perturbed = {} as Float64MlpParams;
      for (const name of FLOAT64_MLP_NAMES)
        perturbed[name] = weights[name].map((w, i) => w + scale * a(name) * (g[name][i] as number));
      const gs = float64LossAndGradients(perturbed, data.x, data.labels, shape).gradients;
      const kept = {} as Float64MlpParams;
      for (const name of FLOAT64_MLP_NAMES) {
        const coefficient = dot(g, gs, name) / dot(g, g, name);
        kept[name] = gs[name].map((value, i) => value - coefficient * (g[name][i] as number));
        descent[name] = gs[name];
      }
      orthogonal = kept;
    } else {
      const gv = orthogonal;
      for (const name of FLOAT64_MLP_NAMES) {
        const ratio = Math.sqrt(dot(g, g, name)) / Math.sqrt(dot(gv, gv, name));
        descent[name] = g[name].map((value, i) => value + options.alpha * ratio * (gv[name][i] as number));
      }
    }
    const next = {} as Float64MlpParams;
    for (const name of FLOAT64_MLP_NAMES)
      next[name] = weights[name].map((w, i) => w - LR * m[name] * (descent[name][i] as number));
    weights = next;
    results.push(next);
  });
  return results;
}

describe('lookSam() steps against a float64 computation (a full step every k, g_v reused between)', () => {
  for (const [scaling, layerwise] of [
    ['naive', false],
    ['mup2', false],
    ['global', false],
    ['naive', true],
    ['mup2', true],
  ] as const) {
    it(`matches over 5 steps with k = 2 at width multiplier 4, '${scaling}'${layerwise ? ', layerwise' : ''}`, () => {
      const options: Options = { rho: 0.3, k: 2, alpha: 0.7, layerwise, scaling };
      const run = runTinyMlpSteps({
        rule: lookSam(options),
        width: 16,
        baseWidth: BASE_WIDTH,
        learningRate: LR,
        steps: 5,
      });
      expect(run.tensorGrowth, 'tensors held after step 5 beyond step 1').toBe(0);
      const expected = float64LookSamSteps(run.start, run.data, run.shape, options);
      run.results.forEach((result, step) => {
        const from = step === 0 ? run.start : (run.results[step - 1] as Float64MlpParams);
        for (const [name, { scale, relativeError }] of Object.entries(
          updateErrors(from, result, expected[step] as Float64MlpParams),
        )) {
          expect(scale, `step ${step + 1}: ${name} must move`).toBeGreaterThan(0);
          expect(relativeError, `step ${step + 1}: ${name}, error relative to the largest update`).toBeLessThan(5e-3);
        }
      });
    });
  }

  it('takes one pass on the steps between full ones, and a full step again after its g_v is gone', async () => {
    const shape = { inputSize: 6, width: 16, classes: 3 };
    const mlp = createTinyMlp(float64Init(shape, 3, { baseWidth: BASE_WIDTH }), shape, BASE_WIDTH);
    const data = float64Batch(4, { batch: 8, ...shape });
    const x = tf.tensor2d(Float32Array.from(data.x), [8, shape.inputSize]);
    const y = tf.tensor1d(data.labels, 'int32');
    const optimizer = new SamOptimizer({
      base: muSgd(LR, mlp.specs),
      rule: lookSam({ rho: 0.1, k: 3 }),
      params: mlp.specs,
    });
    const passes: number[] = [];
    for (let step = 0; step < 7; step++) {
      let calls = 0;
      optimizer.minimize(
        () => {
          calls++;
          return mlp.loss(x, y);
        },
        false,
        Object.values(mlp.variables),
      );
      passes.push(calls);
    }
    expect(passes, 'passes per step: 2 at steps 0, 3, 6; 1 between').toEqual([2, 1, 1, 2, 1, 1, 2]);
    // A resumed optimizer without the saved state has no g_v: its next step is a full one whatever the count.
    const saved = await optimizer.getWeights();
    const fresh = new SamOptimizer({
      base: muSgd(LR, mlp.specs),
      rule: lookSam({ rho: 0.1, k: 3 }),
      params: mlp.specs,
    });
    await fresh.setWeights(saved.filter(({ name }) => !name.includes('/sam-rule-state/')));
    expect(fresh.iterations).toBe(7);
    let calls = 0;
    fresh.minimize(
      () => {
        calls++;
        return mlp.loss(x, y);
      },
      false,
      Object.values(mlp.variables),
    );
    expect(calls, 'a full step without a kept g_v').toBe(2);
    tf.dispose([x, y, ...saved.map(({ tensor }) => tensor)]);
    optimizer.dispose();
    fresh.dispose();
    mlp.dispose();
  });
});

describe('lookSam() options', () => {
  it('rejects a negative, NaN or infinite rho, naming the value', () => {
    for (const rho of [-0.1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => lookSam({ rho })).toThrowError(InvalidRhoError);
      expect(() => lookSam({ rho })).toThrowError(String(rho));
    }
  });

  it('rejects a bad k, alpha or layerwise, naming the value', () => {
    for (const k of [0, 1.5, -2])
      expect(() => lookSam({ rho: 0.1, k })).toThrowError(`k must be a positive integer, got ${k}`);
    for (const alpha of [-1, Number.NaN])
      expect(() => lookSam({ rho: 0.1, alpha })).toThrowError(`alpha must be a finite number >= 0, got ${alpha}`);
    expect(() => lookSam({ rho: 0.1, layerwise: 1 as never })).toThrowError(InvalidOptionError);
  });

  it('rejects an unknown scaling, listing the known ones', () => {
    expect(() => lookSam({ rho: 0.1, scaling: 'layerwise' as never })).toThrowError(InvalidOptionError);
    expect(() => lookSam({ rho: 0.1, scaling: 'layerwise' as never })).toThrowError(/'naive', 'global', 'mup2'/);
  });

  it("declares its name, radius, interface v2 and scaling (default 'mup2')", () => {
    const rule = lookSam({ rho: 0.05 });
    expect(rule.name).toBe('looksam');
    expect(rule.radius).toBe(0.05);
    expect(rule.scaling).toBe('mup2');
    expect(rule.specificationVersion).toBe('v2');
  });
});
