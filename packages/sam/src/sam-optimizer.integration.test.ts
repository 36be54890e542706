import {
  DisposedVariableError,
  InvalidRhoError,
  MissingParamSpecError,
  muSgd,
  paramSpecs,
  SamOptimizer,
} from '@mup2/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { sam } from './sam.js';

// The loss f(w) = ½‖w‖² has ∇f(w) = w, so one SAM step with naive scaling and no ParamSpecs
// is, by hand: ε = ρ·w/‖w‖, g' = ∇f(w + ε) = w·(1 + ρ/‖w‖), and with SGD w' = w − η·g'.
const START = [0.6, -0.8, 0.3, 1.2, -0.5];
const norm = (values: readonly number[]) => Math.sqrt(values.reduce((sum, value) => sum + value * value, 0));
const halfSquaredNorm = (w: tf.Variable) => () => tf.mul(0.5, tf.sum(tf.square(w))) as tf.Scalar;

function makeWeights(values: readonly number[] = START): tf.Variable {
  return tf.tidy(() => tf.variable(tf.tensor1d(values.slice())));
}

function expectClose(actual: ArrayLike<number>, expected: readonly number[], tolerance = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((value, i) => expect(Math.abs((actual[i] as number) - value), `[${i}]`).toBeLessThan(tolerance));
}

function perturbationNorm(perturbations: tf.NamedTensorMap): number {
  const squares = Object.values(perturbations).flatMap((tensor) => Array.from(tensor.dataSync()));
  tf.dispose(perturbations);
  return norm(squares);
}

describe('SamOptimizer step on ½‖w‖² (naive scaling, no ParamSpecs)', () => {
  it('matches w − η·w·(1 + ρ/‖w‖) and returns the first pass loss ½‖w‖²', () => {
    const before = tf.memory().numTensors;
    const w = makeWeights();
    const optimizer = new SamOptimizer({ base: tf.train.sgd(0.1), rule: sam({ rho: 0.05, scaling: 'naive' }) });
    const cost = optimizer.minimize(halfSquaredNorm(w), true, [w]);
    const scale = 1 + 0.05 / norm(START);
    expectClose(
      w.dataSync(),
      START.map((value) => value - 0.1 * value * scale),
    );
    // The perturbed loss would be ½(‖w‖ + ρ)², 0.05·‖w‖ ≈ 0.085 larger: far outside the tolerance.
    expect(cost!.dataSync()[0]).toBeCloseTo(0.5 * norm(START) ** 2, 6);
    cost!.dispose();
    optimizer.dispose();
    w.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gives a zero perturbation, not NaN, when the gradient is zero', () => {
    const before = tf.memory().numTensors;
    const w = makeWeights([-1, -2, -0.5]);
    const optimizer = new SamOptimizer({ base: tf.train.sgd(0.1), rule: sam({ rho: 0.05 }) });
    const flat = () => tf.sum(tf.relu(w)) as tf.Scalar; // every w < 0: ∇ = 0
    const perturbations = optimizer.computePerturbation(flat, [w]);
    expect(Array.from(perturbations[w.name]!.dataSync())).toEqual([0, 0, 0]);
    tf.dispose(perturbations);
    optimizer.minimize(flat, false, [w]);
    expect(Array.from(w.dataSync())).toEqual([-1, -2, -0.5]);
    optimizer.dispose();
    w.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('SamOptimizer radius', () => {
  it('setRho changes ‖ε‖ to the new ρ, and ε = ρ·w/‖w‖ elementwise', () => {
    const before = tf.memory().numTensors;
    const w = makeWeights();
    const optimizer = new SamOptimizer({ base: tf.train.sgd(0.1), rule: sam({ rho: 0.05, scaling: 'naive' }) });
    expect(perturbationNorm(optimizer.computePerturbation(halfSquaredNorm(w), [w]))).toBeCloseTo(0.05, 6);
    optimizer.setRho(0.3);
    expect(optimizer.radius).toBe(0.3);
    const perturbations = optimizer.computePerturbation(halfSquaredNorm(w), [w]);
    expectClose(
      perturbations[w.name]!.dataSync(),
      START.map((value) => (0.3 * value) / norm(START)),
    );
    expect(perturbationNorm(perturbations)).toBeCloseTo(0.3, 6);
    optimizer.minimize(halfSquaredNorm(w), false, [w]);
    expectClose(
      w.dataSync(),
      START.map((value) => value - 0.1 * value * (1 + 0.3 / norm(START))),
    );
    optimizer.dispose();
    w.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('setRho rejects a negative radius with an InvalidRhoError naming it, and keeps the old one', () => {
    const optimizer = new SamOptimizer({ base: tf.train.sgd(0.1), rule: sam({ rho: 0.05 }) });
    expect(() => optimizer.setRho(-1)).toThrowError(InvalidRhoError);
    expect(() => optimizer.setRho(-1)).toThrowError(/-1/);
    expect(optimizer.radius).toBe(0.05);
    optimizer.dispose();
  });

  it('rhoSchedule gives the radius of each step, called with the step count', () => {
    const before = tf.memory().numTensors;
    const w = makeWeights();
    const radii = [0.1, 0.2, 0.4];
    const asked: number[] = [];
    const optimizer = new SamOptimizer({
      base: tf.train.sgd(0.1),
      rule: sam({ rho: 0.05, scaling: 'naive' }),
      rhoSchedule: (step) => {
        asked.push(step);
        return radii[step]!;
      },
    });
    let expected = START;
    for (let step = 0; step < 3; step++) {
      expect(perturbationNorm(optimizer.computePerturbation(halfSquaredNorm(w), [w])), `step ${step}`).toBeCloseTo(
        radii[step]!,
        6,
      );
      optimizer.minimize(halfSquaredNorm(w), false, [w]);
      const scale = 1 + radii[step]! / norm(expected);
      expected = expected.map((value) => value - 0.1 * value * scale);
    }
    expectClose(w.dataSync(), expected, 2e-6);
    expect(new Set(asked)).toEqual(new Set([0, 1, 2]));
    optimizer.dispose();
    w.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rhoSchedule returning a negative radius fails the step with InvalidRhoError naming it and the step', () => {
    const before = tf.memory().numTensors;
    const w = makeWeights();
    const optimizer = new SamOptimizer({ base: tf.train.sgd(0.1), rule: sam({ rho: 0.05 }), rhoSchedule: () => -0.5 });
    expect(() => optimizer.minimize(halfSquaredNorm(w), false, [w])).toThrowError(InvalidRhoError);
    expect(() => optimizer.minimize(halfSquaredNorm(w), false, [w])).toThrowError(/step 0.*-0\.5/);
    expect(Array.from(w.dataSync())).toEqual(START.map(Math.fround));
    optimizer.dispose();
    w.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('SamOptimizer clipNorm', () => {
  it('clips the descent gradient at w + ε (not the first gradient): w′ = w − η·c·w/‖w‖', () => {
    const before = tf.memory().numTensors;
    // ‖w‖ = 1, ρ = 0.5: ‖∇f(w)‖ = 1 is under c = 1.2, ‖∇f(w + ε)‖ = 1.5 is over it.
    const unit = START.map((value) => value / norm(START));
    const w = makeWeights(unit);
    const optimizer = new SamOptimizer({
      base: tf.train.sgd(0.1),
      rule: sam({ rho: 0.5, scaling: 'naive' }),
      clipNorm: 1.2,
    });
    optimizer.minimize(halfSquaredNorm(w), false, [w]);
    expectClose(
      w.dataSync(),
      unit.map((value) => value - 0.1 * 1.2 * value),
    );
    optimizer.dispose();
    w.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leaves a gradient under the bound alone', () => {
    const before = tf.memory().numTensors;
    const w = makeWeights();
    const optimizer = new SamOptimizer({
      base: tf.train.sgd(0.1),
      rule: sam({ rho: 0.05, scaling: 'naive' }),
      clipNorm: 100,
    });
    optimizer.minimize(halfSquaredNorm(w), false, [w]);
    expectClose(
      w.dataSync(),
      START.map((value) => value - 0.1 * value * (1 + 0.05 / norm(START))),
    );
    optimizer.dispose();
    w.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('SamOptimizer ParamSpec checks', () => {
  it('rejects a varList variable without a ParamSpec when params are given, naming it', () => {
    const before = tf.memory().numTensors;
    const a = makeWeights();
    const b = tf.tidy(() => tf.variable(tf.ones([2]), true, 'sam_no_spec'));
    const params = paramSpecs([{ variable: a, role: 'vector' }]);
    const optimizer = new SamOptimizer({ base: muSgd(0.1, params), rule: sam({ rho: 0.05 }), params });
    const f = () => tf.add(tf.sum(tf.square(a)), tf.sum(b)) as tf.Scalar;
    expect(() => optimizer.minimize(f, false, [a, b])).toThrowError(MissingParamSpecError);
    expect(() => optimizer.minimize(f, false, [a, b])).toThrowError(/'sam_no_spec'/);
    expect(Array.from(a.dataSync())).toEqual(START.map(Math.fround));
    optimizer.dispose();
    a.dispose();
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects a ParamSpec whose variable was disposed, naming it', () => {
    const before = tf.memory().numTensors;
    const old = tf.tidy(() => tf.variable(tf.ones([3]), true, 'sam_replaced'));
    const params = paramSpecs([{ variable: old, role: 'vector' }]);
    const optimizer = new SamOptimizer({ base: tf.train.sgd(0.1), rule: sam({ rho: 0.05 }), params });
    old.dispose();
    // A new variable takes the old one's name, so the lookup by name finds the stale spec.
    const replacement = tf.tidy(() => tf.variable(tf.ones([3]), true, 'sam_replaced'));
    const f = () => tf.sum(tf.square(replacement)) as tf.Scalar;
    expect(() => optimizer.minimize(f, false, [replacement])).toThrowError(DisposedVariableError);
    expect(() => optimizer.minimize(f, false, [replacement])).toThrowError(/'sam_replaced'/);
    const base = tf.train.sgd(0.1);
    expect(() => new SamOptimizer({ base, rule: sam({ rho: 0.05 }), params })).toThrowError(DisposedVariableError);
    base.dispose();
    optimizer.dispose();
    replacement.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('SamOptimizer varList', () => {
  it('leaves a non-trainable variable in varList alone, as tf.Optimizer.minimize does', () => {
    const before = tf.memory().numTensors;
    const w = makeWeights();
    const frozen = tf.tidy(() => tf.variable(tf.tensor1d([3, 4]), false));
    const optimizer = new SamOptimizer({ base: tf.train.sgd(0.1), rule: sam({ rho: 0.05, scaling: 'naive' }) });
    const f = () => tf.add(halfSquaredNorm(w)(), tf.sum(frozen)) as tf.Scalar;
    optimizer.minimize(f, false, [w, frozen]);
    expectClose(
      w.dataSync(),
      START.map((value) => value - 0.1 * value * (1 + 0.05 / norm(START))),
    );
    expect(Array.from(frozen.dataSync())).toEqual([3, 4]);
    optimizer.dispose();
    tf.dispose([w, frozen]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('notices a variable frozen between steps (trainable set to false), as when fine-tuning', () => {
    const before = tf.memory().numTensors;
    const w = makeWeights();
    const v = tf.tidy(() => tf.variable(tf.tensor1d([1, -1]), true));
    const optimizer = new SamOptimizer({ base: tf.train.sgd(0.1), rule: sam({ rho: 0.05 }) });
    const f = () => tf.add(halfSquaredNorm(w)(), tf.sum(tf.square(v))) as tf.Scalar;
    optimizer.minimize(f, false, [w, v]);
    const afterFirst = Array.from(v.dataSync());
    expect(afterFirst).not.toEqual([1, -1]);
    v.trainable = false;
    optimizer.minimize(f, false, [w, v]);
    expect(Array.from(v.dataSync())).toEqual(afterFirst);
    optimizer.dispose();
    tf.dispose([w, v]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
