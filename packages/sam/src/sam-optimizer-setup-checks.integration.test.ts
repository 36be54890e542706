import { InvalidOptionError, MissingParamSpecError, muAdam, muSgd, paramSpecs, SamOptimizer } from '@mup2/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { sam } from './sam.js';

// Setups that cannot be what the user meant, which used to train without a word (plain SAM, or
// SP learning rates), and the setups next to them that are meant and must keep working.

function makeSpecs() {
  const hidden = tf.tidy(() => tf.variable(tf.ones([16, 16]), true));
  const readout = tf.tidy(() => tf.variable(tf.ones([16, 3]), true));
  const params = paramSpecs([
    { variable: hidden, baseShape: [4, 4] },
    { variable: readout, baseShape: [4, 3] },
  ]);
  return { params, dispose: () => tf.dispose([hidden, readout]) };
}

const build = (options: ConstructorParameters<typeof SamOptimizer>[0]) => () => new SamOptimizer(options).dispose();

describe('SamOptimizer refuses a setup that cannot be what the user meant', () => {
  it("an explicit scaling: 'mup2' without params (it would be plain SAM), naming the fix", () => {
    const call = build({ base: tf.train.sgd(0.1), rule: sam({ rho: 0.05, scaling: 'mup2' }) });
    expect(call).toThrowError(MissingParamSpecError);
    expect(call).toThrowError(/scaling 'mup2' but no params.*plain SAM.*describeParams\(model, baseModel\)/);
    // …even with a width multiplier: µP² needs each layer's role.
    expect(
      build({ base: tf.train.sgd(0.1), rule: sam({ rho: 0.05, scaling: 'mup2' }), widthMultiplier: 4 }),
    ).toThrowError(MissingParamSpecError);
  });

  it("an explicit scaling: 'global' without params or widthMultiplier (r would be 1)", () => {
    const call = build({ base: tf.train.sgd(0.1), rule: sam({ rho: 0.05, scaling: 'global' }) });
    expect(call).toThrowError(MissingParamSpecError);
    expect(call).toThrowError(/scaling 'global'.*neither params nor widthMultiplier/);
    expect(
      build({ base: tf.train.sgd(0.1), rule: sam({ rho: 0.05, scaling: 'global' }), widthMultiplier: 4 }),
    ).not.toThrow();
  });

  it('but plain SAM without params: the default scaling, or naive', () => {
    expect(build({ base: tf.train.sgd(0.1), rule: sam({ rho: 0.05 }) })).not.toThrow();
    expect(build({ base: tf.train.sgd(0.1), rule: sam({ rho: 0.05, scaling: 'naive' }) })).not.toThrow();
  });

  for (const [name, make] of [
    ['muSgd', muSgd],
    ['muAdam', muAdam],
  ] as const) {
    it(`${name} created without params under a SamOptimizer that has them (SP learning rates), naming the fix`, () => {
      const { params, dispose } = makeSpecs();
      const rule = sam({ rho: 0.05 });
      const call = build({ base: make(0.1), rule, params });
      expect(call).toThrowError(InvalidOptionError);
      expect(call).toThrowError(
        new RegExp(`base ${name} was created without them.*${name}\\(lr, params\\).*parameterization: 'sp'`),
      );
      expect(build({ base: make(0.1, params), rule, params })).not.toThrow();
      expect(build({ base: make(0.1, params, { parameterization: 'sp' }), rule, params })).not.toThrow();
      dispose();
    });
  }

  it('but a tfjs optimizer as the base takes one learning rate by design', () => {
    const { params, dispose } = makeSpecs();
    expect(build({ base: tf.train.adam(0.01), rule: sam({ rho: 0.05 }), params })).not.toThrow();
    dispose();
  });
});

describe('SamOptimizer.setWeights', () => {
  it('refuses base state saved for other variables and changes nothing (the resumed run would diverge)', async () => {
    const before = tf.memory().numTensors;
    const first = makeSpecs();
    const second = makeSpecs(); // the same shapes again: other variable names
    const loss = (params: typeof first.params) => () =>
      tf.tidy(() => tf.sum(tf.matMul(params[0]!.variable, params[1]!.variable)) as tf.Scalar);
    const make = (params: typeof first.params) =>
      new SamOptimizer({ base: muSgd(0.01, params, { momentum: 0.9 }), rule: sam({ rho: 0.05 }), params });
    const saving = make(first.params);
    saving.minimize(
      loss(first.params),
      false,
      first.params.map((spec) => spec.variable),
    );
    const state = await saving.getWeights();
    const restoring = make(second.params);
    restoring.minimize(
      loss(second.params),
      false,
      second.params.map((spec) => spec.variable),
    );
    const own = await restoring.getWeights();
    await expect(restoring.setWeights(state)).rejects.toThrowError(
      new RegExp(`muSgd.setWeights: .*'${first.params[0]!.variable.name}'`),
    );
    const after = await restoring.getWeights();
    expect(after.map(({ name, tensor }) => [name, Array.from(tensor.dataSync())])).toEqual(
      own.map(({ name, tensor }) => [name, Array.from(tensor.dataSync())]),
    );
    expect(restoring.iterations).toBe(1);
    for (const entries of [state, own, after]) {
      tf.dispose(entries.map(({ tensor }) => tensor).filter((tensor) => !(tensor instanceof tf.Variable)));
    }
    for (const disposable of [saving, restoring, first, second]) disposable.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
