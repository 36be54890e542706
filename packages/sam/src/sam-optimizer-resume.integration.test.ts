import { muAdam, muSgd, SamOptimizer } from '@mup2/core';
import { createTinyMlp, FLOAT64_MLP_NAMES, float64Batch, float64Init, type TinyMlp } from '@mup2/core/testing';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { sam } from './sam.js';

const shape = { inputSize: 6, width: 16, classes: 3 };
const BASE_WIDTH = 4;
const BATCH = 8;

function makeBatch(seed: number) {
  const { x, labels } = float64Batch(seed, { batch: BATCH, inputSize: shape.inputSize, classes: shape.classes });
  return { x: tf.tensor2d(Float32Array.from(x), [BATCH, shape.inputSize]), y: tf.tensor1d(labels, 'int32') };
}

interface Setup {
  readonly name: string;
  makeOptimizer(mlp: TinyMlp): SamOptimizer;
  /** Called before each step with its index, on both runs alike. */
  beforeStep(optimizer: SamOptimizer, step: number): void;
}

const setups: Setup[] = [
  {
    name: 'muAdam base and setRho (moments, bias correction and ρ must come back)',
    makeOptimizer: (mlp) =>
      new SamOptimizer({ base: muAdam(0.01, mlp.specs), rule: sam({ rho: 0.05 }), params: mlp.specs }),
    beforeStep: (optimizer, step) => {
      if (step === 1) optimizer.setRho(0.2);
    },
  },
  {
    name: 'muSgd momentum base and a step-dependent rhoSchedule (momentum and the step count must come back)',
    makeOptimizer: (mlp) =>
      new SamOptimizer({
        base: muSgd(0.1, mlp.specs, { momentum: 0.9 }),
        rule: sam({ rho: 0.05 }),
        params: mlp.specs,
        rhoSchedule: (step) => 0.05 * (1 + step),
      }),
    beforeStep: () => {},
  },
];

describe('SamOptimizer getWeights/setWeights', () => {
  for (const setup of setups) {
    it(`resumes exactly as an uninterrupted run: ${setup.name}`, async () => {
      const before = tf.memory().numTensors;
      const initial = float64Init(shape, 11, { baseWidth: BASE_WIDTH });
      const batches = [0, 1, 2, 3, 4, 5].map((seed) => makeBatch(20 + seed));
      const run = (optimizer: SamOptimizer, mlp: TinyMlp, from: number, to: number) => {
        for (let step = from; step < to; step++) {
          setup.beforeStep(optimizer, step);
          const { x, y } = batches[step]!;
          optimizer.minimize(() => mlp.loss(x, y), false, Object.values(mlp.variables));
        }
      };

      const straight = createTinyMlp(initial, shape, BASE_WIDTH);
      const uninterrupted = setup.makeOptimizer(straight);
      run(uninterrupted, straight, 0, 6);

      const resumed = createTinyMlp(initial, shape, BASE_WIDTH);
      const first = setup.makeOptimizer(resumed);
      run(first, resumed, 0, 3);
      const state = await first.getWeights();
      const second = setup.makeOptimizer(resumed);
      await second.setWeights(state);
      // Scalars are the caller's; slot variables belong to `first`.
      tf.dispose(state.filter(({ name }) => name.startsWith('sam/') || name === 'iter').map(({ tensor }) => tensor));
      first.dispose();
      expect(second.iterations).toBe(3);
      // ρ travels as a float32 scalar, as every optimizer weight does.
      expect(second.radius).toBeCloseTo(first.radius, 7);
      run(second, resumed, 3, 6);

      const [a, b] = [straight.read(), resumed.read()];
      for (const name of FLOAT64_MLP_NAMES) expect(Array.from(b[name]), name).toEqual(Array.from(a[name]));
      for (const disposable of [uninterrupted, second, straight, resumed]) disposable.dispose();
      for (const { x, y } of batches) tf.dispose([x, y]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});

describe('SamOptimizer getWeights/setWeights with model variables named sam/…', () => {
  it("keeps the base optimizer's state of a variable whose name starts with 'sam/'", async () => {
    const before = tf.memory().numTensors;
    const start = [0.5, -1, 2];
    const makeOptimizer = () =>
      new SamOptimizer({ base: muSgd(0.1, undefined, { momentum: 0.9 }), rule: sam({ rho: 0.05 }) });
    const run = (optimizer: SamOptimizer, w: tf.Variable, steps: number) => {
      for (let step = 0; step < steps; step++) {
        optimizer.minimize(() => tf.sum(tf.square(w)) as tf.Scalar, false, [w]);
      }
    };
    const straightWeights = tf.tidy(() => tf.variable(tf.tensor1d(start), true, 'sam/kernel_straight'));
    const uninterrupted = makeOptimizer();
    run(uninterrupted, straightWeights, 4);

    const resumedWeights = tf.tidy(() => tf.variable(tf.tensor1d(start), true, 'sam/kernel_resumed'));
    const first = makeOptimizer();
    run(first, resumedWeights, 2);
    const state = await first.getWeights();
    expect(state.map(({ name }) => name)).toContain('sam/kernel_resumed/momentum');
    const second = makeOptimizer();
    await second.setWeights(state);
    tf.dispose(state.filter(({ name }) => !name.endsWith('/momentum')).map(({ tensor }) => tensor));
    first.dispose();
    run(second, resumedWeights, 2);

    expect(Array.from(resumedWeights.dataSync())).toEqual(Array.from(straightWeights.dataSync()));
    for (const disposable of [uninterrupted, second, straightWeights, resumedWeights]) disposable.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
