import { muSgd, SamOptimizer } from '@mup2/core';
import {
  createTinyMlp,
  FLOAT64_MLP_NAMES,
  type Float64MlpParams,
  float64Batch,
  float64Init,
  float64LossAndGradients,
  float64SamStep,
  runTinyMlpStep,
  updateErrors,
} from '@mup2/core/testing';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { sam } from './sam.js';

const BASE_WIDTH = 4;
const batch = 8;
const inputSize = 6;
const classes = 3;

const makeData = (seed: number) => float64Batch(seed, { batch, inputSize, classes });

function runStep(width: number, scaling: 'naive' | 'global' | 'mup2', rho: number, seed = 1) {
  const lr = 0.5;
  const step = runTinyMlpStep({ rule: sam({ rho, scaling }), width, baseWidth: BASE_WIDTH, learningRate: lr, seed });
  const shape = { inputSize, width, classes };
  const reference = float64SamStep(step.start, step.data, {
    shape,
    baseWidth: BASE_WIDTH,
    rho,
    scaling,
    learningRate: lr,
  });
  const referenceLoss = float64LossAndGradients(step.start, step.data.x, step.data.labels, step.shape).forward.loss;
  return { ...step, reference, referenceLoss, leaked: step.leakedTensors };
}

function expectUpdatesClose(start: Float64MlpParams, actual: Float64MlpParams, expected: Float64MlpParams) {
  for (const [name, { scale, relativeError }] of Object.entries(updateErrors(start, actual, expected))) {
    expect(scale, `${name} must move`).toBeGreaterThan(0);
    expect(relativeError, `${name}: largest error relative to the largest update`).toBeLessThan(2e-3);
  }
}

describe('sam() step against a float64 computation', () => {
  for (const scaling of ['naive', 'global', 'mup2'] as const) {
    it(`matches at width multiplier 4 with scaling '${scaling}'`, () => {
      const { start, result, reference, loss, referenceLoss, leaked } = runStep(16, scaling, 0.3);
      expectUpdatesClose(start, result, reference);
      expect(loss).toBeCloseTo(referenceLoss, 5);
      expect(leaked).toBe(0);
    });
  }

  it('differs between scalings at width multiplier 4 (the multipliers are applied)', () => {
    const naive = runStep(16, 'naive', 0.3).result;
    const mup2 = runStep(16, 'mup2', 0.3).result;
    const gap = Math.max(...naive.W1.map((value, i) => Math.abs(value - (mup2.W1[i] as number))));
    expect(gap).toBeGreaterThan(1e-5);
  });

  it('gives the same step for every scaling at width multiplier 1', () => {
    const steps = (['naive', 'global', 'mup2'] as const).map((scaling) => runStep(BASE_WIDTH, scaling, 0.3));
    const [naive, global, mup2] = steps;
    expectUpdatesClose(naive!.start, naive!.result, naive!.reference);
    for (const other of [global!, mup2!]) {
      for (const name of FLOAT64_MLP_NAMES)
        expect(Array.from(other.result[name])).toEqual(Array.from(naive!.result[name]));
    }
  });

  it('with rho = 0 equals the base optimizer alone, exactly', () => {
    const shape = { inputSize, width: 16, classes };
    const initial = float64Init(shape, 7, { baseWidth: BASE_WIDTH });
    const data = makeData(8);
    const x = tf.tensor2d(Float32Array.from(data.x), [batch, inputSize]);
    const y = tf.tensor1d(data.labels, 'int32');
    const plain = createTinyMlp(initial, shape, BASE_WIDTH);
    const samModel = createTinyMlp(initial, shape, BASE_WIDTH);
    const base = muSgd(0.5, plain.specs);
    const samOptimizer = new SamOptimizer({
      base: muSgd(0.5, samModel.specs),
      rule: sam({ rho: 0 }),
      params: samModel.specs,
    });
    for (let step = 0; step < 3; step++) {
      base.minimize(() => plain.loss(x, y), false, Object.values(plain.variables));
      samOptimizer.minimize(() => samModel.loss(x, y), false, Object.values(samModel.variables));
    }
    const a = plain.read();
    const b = samModel.read();
    for (const name of FLOAT64_MLP_NAMES) expect(Array.from(b[name])).toEqual(Array.from(a[name]));
    for (const t of [x, y]) t.dispose();
    plain.dispose();
    samModel.dispose();
  });
});
