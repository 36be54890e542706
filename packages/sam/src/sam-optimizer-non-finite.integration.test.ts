import { NonFiniteGradientError, SamOptimizer } from '@mup2/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { sam } from './sam.js';

const A = [0.5, -1.5, 2];
const B = [1, 2, 3];

/** Two weights; f = Σa² + Σ b⊙c with c holding a NaN from the given call of f on (1-based; 0: every call). */
function makeProblem(nanFromCall: number) {
  const a = tf.tidy(() => tf.variable(tf.tensor1d(A), true));
  const b = tf.tidy(() => tf.variable(tf.tensor1d(B), true));
  const clean = tf.tensor1d([1, -1, 2]);
  const poisoned = tf.tensor1d([1, Number.NaN, 2]);
  let calls = 0;
  const f = () => {
    calls += 1;
    const c = nanFromCall === 0 || calls % 2 === nanFromCall % 2 ? poisoned : clean;
    return tf.add(tf.sum(tf.square(a)), tf.sum(tf.mul(b, c))) as tf.Scalar;
  };
  const unchanged = () => {
    expect(Array.from(a.dataSync())).toEqual(A);
    expect(Array.from(b.dataSync())).toEqual(B);
  };
  const dispose = () => tf.dispose([a, b, clean, poisoned]);
  return { a, b, f, unchanged, dispose };
}

function makeOptimizer(nonFinite?: 'throw' | 'skip') {
  return new SamOptimizer({ base: tf.train.sgd(0.1), rule: sam({ rho: 0.05 }), nonFinite });
}

describe('SamOptimizer with non-finite gradients', () => {
  it('throws NonFiniteGradientError naming the variable whose gradient is NaN, and changes no weight', () => {
    const before = tf.memory().numTensors;
    const { a, b, f, unchanged, dispose } = makeProblem(0);
    const optimizer = makeOptimizer();
    let error: unknown;
    try {
      optimizer.minimize(f, true, [a, b]);
    } catch (caught) {
      error = caught;
    }
    expect(NonFiniteGradientError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(`'${b.name}'`);
    expect((error as Error).message).not.toContain(`'${a.name}'`);
    unchanged();
    expect(optimizer.iterations).toBe(0);
    optimizer.dispose();
    dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("with nonFinite: 'skip' leaves the weights, counts the step in skippedSteps and returns the loss", () => {
    const before = tf.memory().numTensors;
    const { a, b, f, unchanged, dispose } = makeProblem(0);
    const optimizer = makeOptimizer('skip');
    for (let i = 0; i < 3; i++) {
      const cost = optimizer.minimize(f, true, [a, b]);
      expect(cost).not.toBeNull();
      cost!.dispose();
    }
    unchanged();
    expect(optimizer.skippedSteps).toBe(3);
    optimizer.dispose();
    dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('checks the second gradient too: NaN only at w + ε throws, naming the variable, weights unperturbed', () => {
    const before = tf.memory().numTensors;
    const { a, b, f, unchanged, dispose } = makeProblem(2);
    const optimizer = makeOptimizer();
    expect(() => optimizer.minimize(f, false, [a, b])).toThrowError(NonFiniteGradientError);
    unchanged();
    expect(() => optimizer.minimize(f, false, [a, b])).toThrowError(new RegExp(`second.*'${b.name}'`));
    unchanged();
    optimizer.dispose();
    dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("skips a step whose second gradient is NaN with nonFinite: 'skip'", () => {
    const before = tf.memory().numTensors;
    const { a, b, f, unchanged, dispose } = makeProblem(2);
    const optimizer = makeOptimizer('skip');
    optimizer.minimize(f, false, [a, b]);
    unchanged();
    expect(optimizer.skippedSteps).toBe(1);
    optimizer.dispose();
    dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('SamOptimizer when the loss closure throws in the second pass', () => {
  it('rethrows, and every weight and non-trainable variable is back to its original bits', () => {
    const before = tf.memory().numTensors;
    const w = tf.tidy(() => tf.variable(tf.tensor1d([0.1, 0.2, 0.3]), true));
    const statistic = tf.tidy(() => tf.variable(tf.tensor1d([7, 8]), false)); // like a BatchNorm moving mean
    const originalWeights = Array.from(w.dataSync());
    let calls = 0;
    const f = () => {
      calls += 1;
      if (calls === 2) {
        statistic.assign(tf.tidy(() => tf.mul(statistic, 3))); // the perturbed pass touches state, then fails
        throw new Error('loss failed on the perturbed weights');
      }
      return tf.sum(tf.square(w)) as tf.Scalar;
    };
    const optimizer = makeOptimizer();
    expect(() => optimizer.minimize(f, true, [w])).toThrowError('loss failed on the perturbed weights');
    expect(calls).toBe(2);
    expect(Array.from(w.dataSync())).toEqual(originalWeights);
    expect(Array.from(statistic.dataSync())).toEqual([7, 8]);
    expect(optimizer.iterations).toBe(0);
    optimizer.dispose();
    tf.dispose([w, statistic]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leaks nothing when the closure throws in the first pass, after building part of the graph', () => {
    const before = tf.memory().numTensors;
    const w = tf.tidy(() => tf.variable(tf.tensor1d([0.1, 0.2, 0.3]), true));
    const f = () => {
      tf.sum(tf.square(w)); // ops on the tape save tensors for a backward pass that never comes
      throw new Error('loss failed at w');
    };
    const optimizer = makeOptimizer();
    expect(() => optimizer.minimize(f, true, [w])).toThrowError('loss failed at w');
    expect(Array.from(w.dataSync())).toEqual([0.1, 0.2, 0.3].map(Math.fround));
    optimizer.dispose();
    w.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
