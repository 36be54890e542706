import * as tf from '@tensorflow/tfjs-core';
import { muSgd } from '../mu-sgd.js';
import type { PerturbationRule } from '../perturbation-rule.js';
import { RULE_STATE_INFIX } from '../rule-state.js';
import { SamOptimizer } from '../sam-optimizer.js';
import { fixture, WIDE } from './conformance-fixture.js';
import { FLOAT64_MLP_NAMES, type Float64MlpParams } from './float64-mlp.js';

type VitestApi = Pick<typeof import('vitest'), 'it' | 'expect'>;

const optimizerFor = (
  rule: PerturbationRule,
  model: ReturnType<typeof fixture>,
  nonFinite: 'throw' | 'skip' = 'throw',
) => new SamOptimizer({ base: muSgd(0.5, model.mlp.specs), rule, params: model.mlp.specs, nonFinite });

function expectSameWeights(
  expect: VitestApi['expect'],
  actual: Float64MlpParams,
  expected: Float64MlpParams,
  what: string,
) {
  for (const name of FLOAT64_MLP_NAMES) {
    expect(Array.from(actual[name]), `${name} ${what}`).toEqual(Array.from(expected[name]));
  }
}

/**
 * The checks of a v2 rule's state (registered by runRuleConformance for v2 rules): getWeights and
 * setWeights carry it, so a run resumed from them continues bit for bit (and, when the rule keeps
 * state, a fresh optimizer would not); a rejected step leaves it as it was.
 */
export function registerStateChecks(vitest: VitestApi, createRule: () => PerturbationRule): void {
  const { it, expect } = vitest;

  it('carries its state in getWeights/setWeights: a resumed run continues bit for bit', async () => {
    const first = fixture(WIDE, 5);
    const optimizer = optimizerFor(createRule(), first);
    for (let step = 0; step < 2; step++) optimizer.minimize(first.loss, false, first.variables);
    const saved = await optimizer.getWeights();
    const weights = first.mlp.read();
    for (let step = 0; step < 2; step++) optimizer.minimize(first.loss, false, first.variables);
    const uninterrupted = first.mlp.read();

    const run = async (restore: boolean) => {
      const second = fixture(WIDE, 5);
      for (const name of FLOAT64_MLP_NAMES)
        second.mlp.variables[name].assign(
          tf.tensor(Float32Array.from(weights[name]), second.mlp.variables[name].shape),
        );
      const resumed = optimizerFor(createRule(), second);
      // The state entries name the first run's variables; map them to the second run's, as a checkpoint of one model does.
      const renamed = saved.map(({ name, tensor }) => ({
        name: FLOAT64_MLP_NAMES.reduce(
          (current, key) => current.replace(first.mlp.variables[key].name, second.mlp.variables[key].name),
          name,
        ),
        tensor,
      }));
      if (restore) await resumed.setWeights(renamed);
      for (let step = 0; step < 2; step++) resumed.minimize(second.loss, false, second.variables);
      const result = second.mlp.read();
      resumed.dispose();
      second.dispose();
      return result;
    };
    expectSameWeights(expect, await run(true), uninterrupted, 'after resuming from getWeights');
    if (saved.some(({ name }) => name.includes(RULE_STATE_INFIX))) {
      const fresh = await run(false);
      const differs = FLOAT64_MLP_NAMES.some((name) =>
        fresh[name].some((value, i) => value !== uninterrupted[name][i]),
      );
      expect(differs, 'the rule keeps state, so a fresh optimizer on the same weights steps differently').toBe(true);
    }
    tf.dispose(saved.map(({ tensor }) => tensor));
    optimizer.dispose();
    first.dispose();
  });

  it('keeps its state as it was through a rejected step', () => {
    const results = [false, true].map((withRejectedStep) => {
      const model = fixture(WIDE, 6);
      const optimizer = optimizerFor(createRule(), model, 'skip');
      const start = tf.memory().numTensors;
      optimizer.minimize(model.loss, false, model.variables);
      if (withRejectedStep) {
        optimizer.minimize(() => tf.tidy(() => tf.mul(model.loss(), Number.NaN) as tf.Scalar), false, model.variables);
        expect(optimizer.skippedSteps, 'the NaN step was skipped').toBe(1);
      }
      for (let step = 0; step < 2; step++) optimizer.minimize(model.loss, false, model.variables);
      expect(
        tf.memory().numTensors - start,
        'tensors held after the steps: the state alone, the same with or without the skipped step',
      ).toBeGreaterThanOrEqual(0);
      const weights = model.mlp.read();
      optimizer.dispose();
      model.dispose();
      return weights;
    });
    expectSameWeights(
      expect,
      results[1] as Float64MlpParams,
      results[0] as Float64MlpParams,
      'with a skipped step in between',
    );
  });
}
