import { muSgd, SamOptimizer } from '@mup2/core';
import {
  createTinyMlp,
  FLOAT64_MLP_NAMES,
  type Float64MlpName,
  type Float64MlpParams,
  float64Batch,
  float64Init,
  float64LossAndGradients,
  type TinyMlp,
  updateErrors,
} from '@mup2/core/testing';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { sam } from './sam.js';

const BASE_WIDTH = 4;
const WIDTH = 16;
const BATCH = 8;
const shape = { inputSize: 6, width: WIDTH, classes: 3 };
const LR = 0.3;
const STEPS = 7;
/** A schedule, so that reuse steps must rescale the kept ε to their own radius. */
const schedule = (step: number) => 0.05 * (1 + step);

const multipliers = (r: number): Record<Float64MlpName, number> => ({ W1: r, gamma: r, W2: 1, b2: r, W3: 1 / r });
const batchData = (step: number) =>
  float64Batch(200 + step, { batch: BATCH, inputSize: shape.inputSize, classes: shape.classes });

/**
 * STEPS SAM steps (mup2) with a µP-SGD base in float64, ε recomputed at steps 0, k, 2k, … from
 * that step's gradient and otherwise the last computed ε scaled to the step's radius
 * (ε_t = ρ_t/ρ_c · ε_c), the descent gradient always at w_t + ε_t on step t's batch.
 */
function referenceRun(start: Float64MlpParams, k: number): { weights: Float64MlpParams[]; losses: number[] } {
  const mult = multipliers(WIDTH / BASE_WIDTH);
  let params = start;
  let kept: { epsilon: Float64MlpParams; rho: number } | undefined;
  const weights: Float64MlpParams[] = [];
  const losses: number[] = [];
  for (let step = 0; step < STEPS; step++) {
    const data = batchData(step);
    const rho = schedule(step);
    let epsilon: Float64MlpParams;
    if (step % k === 0) {
      const { forward, gradients: g } = float64LossAndGradients(params, data.x, data.labels, shape);
      let normSquared = 0;
      for (const name of FLOAT64_MLP_NAMES) for (const value of g[name]) normSquared += mult[name] * value * value;
      const denominator = Math.sqrt(normSquared) + 1e-12;
      epsilon = {} as Float64MlpParams;
      for (const name of FLOAT64_MLP_NAMES) epsilon[name] = g[name].map((v) => (rho * mult[name] * v) / denominator);
      kept = { epsilon, rho };
      losses.push(forward.loss);
    } else {
      const { epsilon: last, rho: keptRho } = kept as { epsilon: Float64MlpParams; rho: number };
      epsilon = {} as Float64MlpParams;
      for (const name of FLOAT64_MLP_NAMES) epsilon[name] = last[name].map((v) => (rho / keptRho) * v);
    }
    const perturbed = {} as Float64MlpParams;
    for (const name of FLOAT64_MLP_NAMES)
      perturbed[name] = params[name].map((w, i) => w + (epsilon[name][i] as number));
    const atPerturbed = float64LossAndGradients(perturbed, data.x, data.labels, shape);
    // A reuse step has one pass, at w + ε: that is the loss it reports.
    if (step % k !== 0) losses.push(atPerturbed.forward.loss);
    const next = {} as Float64MlpParams;
    for (const name of FLOAT64_MLP_NAMES) {
      next[name] = params[name].map((w, i) => w - LR * mult[name] * (atPerturbed.gradients[name][i] as number));
    }
    params = next;
    weights.push(params);
  }
  return { weights, losses };
}

function batchTensors(step: number) {
  const { x, labels } = batchData(step);
  return { x: tf.tensor2d(Float32Array.from(x), [BATCH, shape.inputSize]), y: tf.tensor1d(labels, 'int32') };
}
const makeBatches = () => Array.from({ length: STEPS }, (_, step) => batchTensors(step));
const oneBatch = () => batchTensors(0);

const optimizerFor = (mlp: TinyMlp, k: number, momentum = 0) =>
  new SamOptimizer({
    base: muSgd(LR, mlp.specs, { momentum }),
    rule: sam({ rho: 0.05, scaling: 'mup2' }),
    params: mlp.specs,
    rhoSchedule: schedule,
    perturbationInterval: k,
  });

function run(optimizer: SamOptimizer, mlp: TinyMlp, batches: ReturnType<typeof makeBatches>, from: number, to: number) {
  const losses: number[] = [];
  for (let step = from; step < to; step++) {
    const { x, y } = batches[step] as { x: tf.Tensor2D; y: tf.Tensor1D };
    const cost = optimizer.minimize(() => mlp.loss(x, y), true, Object.values(mlp.variables));
    losses.push(cost?.dataSync()[0] as number);
    cost?.dispose();
  }
  return losses;
}

describe('SamOptimizer perturbationInterval (ε reused between recomputations)', () => {
  for (const k of [2, 3]) {
    it(`matches a float64 run with ε recomputed every ${k} steps under a ρ schedule, step by step`, () => {
      const initial = float64Init(shape, 5, { baseWidth: BASE_WIDTH });
      const mlp = createTinyMlp(initial, shape, BASE_WIDTH);
      const start = mlp.read();
      const reference = referenceRun(start, k);
      const batches = makeBatches();
      const optimizer = optimizerFor(mlp, k);
      for (let step = 0; step < STEPS; step++) {
        const [loss] = run(optimizer, mlp, batches, step, step + 1);
        const expectedBefore = step === 0 ? start : (reference.weights[step - 1] as Float64MlpParams);
        const actual = mlp.read();
        // Compare this step's update from where the reference stood, so errors do not compound.
        for (const [name, { relativeError }] of Object.entries(
          updateErrors(expectedBefore, actual, reference.weights[step] as Float64MlpParams),
        )) {
          expect(relativeError, `step ${step}, ${name}`).toBeLessThan(5e-3);
        }
        expect(loss, `step ${step} loss`).toBeCloseTo(reference.losses[step] as number, 4);
      }
      optimizer.dispose();
      mlp.dispose();
      for (const { x, y } of batches) tf.dispose([x, y]);
    });
  }

  it('calls the loss once on a reuse step and twice on a recompute step', () => {
    const mlp = createTinyMlp(float64Init(shape, 5, { baseWidth: BASE_WIDTH }), shape, BASE_WIDTH);
    const batches = makeBatches();
    const optimizer = optimizerFor(mlp, 3);
    const calls: number[] = [];
    for (let step = 0; step < 6; step++) {
      const { x, y } = batches[step] as { x: tf.Tensor2D; y: tf.Tensor1D };
      let count = 0;
      optimizer.minimize(
        () => {
          count += 1;
          return mlp.loss(x, y);
        },
        false,
        Object.values(mlp.variables),
      );
      calls.push(count);
    }
    expect(calls).toEqual([2, 1, 1, 2, 1, 1]);
    optimizer.dispose();
    mlp.dispose();
    for (const { x, y } of batches) tf.dispose([x, y]);
  });

  for (const stop of [3, 4, 5]) {
    it(`resumes bit for bit from getWeights/setWeights after step ${stop} (k = 3, momentum), kept ε included`, async () => {
      const before = tf.memory().numTensors;
      const initial = float64Init(shape, 9, { baseWidth: BASE_WIDTH });
      const batches = makeBatches();
      const straight = createTinyMlp(initial, shape, BASE_WIDTH);
      const uninterrupted = optimizerFor(straight, 3, 0.9);
      run(uninterrupted, straight, batches, 0, STEPS);

      const resumed = createTinyMlp(initial, shape, BASE_WIDTH);
      const first = optimizerFor(resumed, 3, 0.9);
      run(first, resumed, batches, 0, stop);
      const state = await first.getWeights();
      expect(state.map(({ name }) => name)).toContain('sam/perturbation-step');
      const second = optimizerFor(resumed, 3, 0.9);
      await second.setWeights(state);
      // getWeights' fresh tensors are the caller's; the base's slot variables belong to `first`.
      tf.dispose(state.filter(({ tensor }) => !(tensor instanceof tf.Variable)).map(({ tensor }) => tensor));
      first.dispose();
      run(second, resumed, batches, stop, STEPS);

      const [a, b] = [straight.read(), resumed.read()];
      for (const name of FLOAT64_MLP_NAMES) expect(Array.from(b[name]), name).toEqual(Array.from(a[name]));
      for (const disposable of [uninterrupted, second, straight, resumed]) disposable.dispose();
      for (const { x, y } of batches) tf.dispose([x, y]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('leaks no tensors over 40 steps, and releases the kept ε on dispose', () => {
    const before = tf.memory().numTensors;
    const mlp = createTinyMlp(float64Init(shape, 5, { baseWidth: BASE_WIDTH }), shape, BASE_WIDTH);
    const { x, y } = oneBatch();
    const optimizer = optimizerFor(mlp, 5, 0.9);
    const step = () => optimizer.minimize(() => mlp.loss(x, y), true, Object.values(mlp.variables))?.dispose();
    step();
    const afterFirst = tf.memory().numTensors;
    for (let i = 1; i < 40; i++) step();
    expect(tf.memory().numTensors).toBe(afterFirst);
    optimizer.dispose();
    mlp.dispose();
    tf.dispose([x, y]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leaves BatchNorm-like statistics alone on reuse steps (only unperturbed passes may move them)', () => {
    const mlp = createTinyMlp(float64Init(shape, 5, { baseWidth: BASE_WIDTH }), shape, BASE_WIDTH);
    const { x, y } = oneBatch();
    const counter = tf.variable(tf.scalar(0), false, 'test_forward_passes');
    const optimizer = optimizerFor(mlp, 3);
    for (let step = 0; step < 6; step++) {
      optimizer.minimize(
        () => {
          counter.assign(tf.add(counter, 1));
          return mlp.loss(x, y);
        },
        false,
        Object.values(mlp.variables),
      );
    }
    // Steps 0 and 3 recompute ε: their first pass counts; the perturbed passes and the reuse steps do not.
    expect(counter.dataSync()[0]).toBe(2);
    tf.dispose([counter, x, y]);
    optimizer.dispose();
    mlp.dispose();
  });

  it('with perturbationInterval 1 is exactly plain SAM', () => {
    const initial = float64Init(shape, 5, { baseWidth: BASE_WIDTH });
    const batches = makeBatches();
    const [plain, withOne] = [createTinyMlp(initial, shape, BASE_WIDTH), createTinyMlp(initial, shape, BASE_WIDTH)];
    const plainOptimizer = new SamOptimizer({
      base: muSgd(LR, plain.specs),
      rule: sam({ rho: 0.05 }),
      params: plain.specs,
      rhoSchedule: schedule,
    });
    run(plainOptimizer, plain, batches, 0, 4);
    const oneOptimizer = optimizerFor(withOne, 1);
    run(oneOptimizer, withOne, batches, 0, 4);
    const [a, b] = [plain.read(), withOne.read()];
    for (const name of FLOAT64_MLP_NAMES) expect(Array.from(b[name]), name).toEqual(Array.from(a[name]));
    for (const disposable of [plainOptimizer, oneOptimizer, plain, withOne]) disposable.dispose();
    for (const { x, y } of batches) tf.dispose([x, y]);
  });
});
