import { FUSED_KERNELS, hasFusedKernel, movedWeights, ShapeMismatchError } from '@mup2/core';
import { float64AsamStep, float64SamOnStep, float64SamStep, runTinyMlpStep, updateErrors } from '@mup2/core/testing';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadRules } from '../rules/load-rules.js';
import { values } from './heavy-ball.fixture.js';
import { registerTensorflowKernels } from './tensorflow-kernels.js';

// Mup2MovedWeights: a SAM ascent's whole move (the normaliser over every parameter, then each
// w_p + ρ·a_p·d_p / (‖·‖ + 1e-12)) in one kernel, through core's movedWeights, against float64 loops.

const onTensorflow = tf.getBackend() === 'tensorflow';
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

describe.skipIf(!onTensorflow)('the moved-weights kernel on tensorflow', () => {
  beforeAll(() => registerTensorflowKernels());

  // A parameter past 1 MiB (the streamed loop and its tail), one that is not, and a norm term of
  // another shape than its weight (as a rule may give).
  const parameters = [
    { shape: [262_147], normShape: [262_147], a: 0.5, b: 2 },
    { shape: [4099], normShape: [4099], a: 1, b: 1 },
    { shape: [3, 5], normShape: [5, 2], a: 4, b: 0.25 },
  ] as const;

  it('is registered: native:install built it and the zoo loaded it', () => {
    expect(hasFusedKernel(FUSED_KERNELS.movedWeights)).toBe(true);
  });

  it('gives Σ b_q‖n_q‖² and each w_p + ρ·a_p·d_p / (sqrt(Σ) + 1e-12) as float64 loops do', () => {
    const radius = 0.05;
    const data = parameters.map(({ shape, normShape }, p) => ({
      w: values(size(shape), p),
      d: values(size(shape), p + 10, 0.5),
      n: values(size(normShape), p + 20, 0.1),
    }));
    const before = tf.memory().numTensors;
    const result = tf.tidy(() =>
      movedWeights(
        parameters.map(({ shape, normShape, a, b }, p) => ({
          weight: tf.tensor(data[p]?.w as number[], [...shape]),
          direction: tf.tensor(data[p]?.d as number[], [...shape]),
          normTerm: tf.tensor(data[p]?.n as number[], [...normShape]),
          perturbationScale: a,
          normScale: b,
        })),
        radius,
      ),
    );
    if (result === undefined) throw new Error('movedWeights took no kernel');
    const normSquared = parameters.reduce(
      (total, { b }, p) => total + b * (data[p]?.n as number[]).reduce((sum, x) => sum + x * x, 0),
      0,
    );
    expect(Math.abs((result.normSquared.dataSync()[0] as number) - normSquared) / normSquared).toBeLessThan(1e-6);
    parameters.forEach(({ shape, a }, p) => {
      const moved = result.moved[p] as tf.Tensor;
      expect(moved.shape).toEqual([...shape]);
      const factor = (radius * a) / (Math.sqrt(normSquared) + 1e-12);
      const got = moved.dataSync();
      const { w, d } = data[p] as { w: number[]; d: number[] };
      const worst = w.reduce(
        (most, x, i) => Math.max(most, Math.abs((got[i] as number) - (x + factor * (d[i] as number)))),
        0,
      );
      expect(worst, `parameter ${p}`).toBeLessThan(1e-6);
    });
    tf.dispose([...result.moved, result.normSquared]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reports a norm term that is not finite in Σ (the caller rejects the step)', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const result = tf.tidy(() => {
        const normTerm = values(40, 1);
        normTerm[17] = bad;
        return movedWeights(
          [
            {
              weight: tf.ones([40]),
              direction: tf.ones([40]),
              normTerm: tf.tensor1d(normTerm),
              perturbationScale: 1,
              normScale: 1,
            },
          ],
          0.1,
        );
      });
      if (result === undefined) throw new Error('movedWeights took no kernel');
      expect(Number.isFinite(result.normSquared.dataSync()[0]), String(bad)).toBe(false);
      tf.dispose([...result.moved, result.normSquared]);
    }
  });

  it('refuses a direction of another shape than its weight, naming both, and leaves no tensor', () => {
    const [w, d, n] = [tf.zeros([3, 4]), tf.zeros([4, 3]), tf.zeros([2])];
    const before = tf.memory().numTensors;
    expect(() =>
      movedWeights([{ weight: w, direction: d, normTerm: n, perturbationScale: 1, normScale: 1 }], 0.1),
    ).toThrowError(ShapeMismatchError);
    expect(() =>
      movedWeights([{ weight: w, direction: d, normTerm: n, perturbationScale: 1, normScale: 1 }], 0.1),
    ).toThrowError(/\[3,4\] and \[4,3\]/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([w, d, n]);
  });

  // Each rule's step, its ascent through the kernel (µP² scales: a_p, b_p ≠ 1), against its float64 step.
  const references = {
    sam: float64SamStep,
    asam: (start, data, options) => float64AsamStep(start, data, { ...options, eta: 0.01 }),
    'sam-on': float64SamOnStep,
  } satisfies Record<string, typeof float64SamStep>;
  it.each(
    Object.keys(references) as Array<keyof typeof references>,
  )("a %s step (µP² scaling) moves through it and matches the rule's float64 step", async (name) => {
    const rule = (await loadRules()).create(name, {
      rho: 0.3,
      scaling: 'mup2',
      ...(name === 'asam' && { ruleOptions: { eta: 0.01 } }),
    });
    const run = () => runTinyMlpStep({ rule, width: 16, baseWidth: 4, learningRate: 0.5, seed: 3 });
    const profile = await tf.profile(() => {
      run();
    });
    expect(profile.kernelNames).toContain(FUSED_KERNELS.movedWeights);
    expect(profile.kernelNames).not.toContain(FUSED_KERNELS.addScaled);
    const step = run();
    const options = { shape: step.shape, baseWidth: 4, rho: 0.3, scaling: 'mup2', learningRate: 0.5 } as const;
    const reference = references[name](step.start, step.data, options);
    for (const [parameter, { scale, relativeError }] of Object.entries(
      updateErrors(step.start, step.result, reference),
    )) {
      expect(scale, `${parameter} must move`).toBeGreaterThan(0);
      expect(relativeError, parameter).toBeLessThan(2e-3);
    }
    expect(step.leakedTensors).toBe(0);
  });
});
