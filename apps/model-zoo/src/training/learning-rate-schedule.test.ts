import { muSgd, SamOptimizer } from '@mup2/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { loadRules } from '../rules/load-rules.js';
import { scheduledLearningRate, setLearningRate } from './learning-rate-schedule.js';

// SAM as the zoo finds it (the zoo does not depend on @mup2/sam by name).
const rules = await loadRules();

describe('scheduledLearningRate', () => {
  it('is η throughout when constant', () => {
    expect([0, 5, 9].map((step) => scheduledLearningRate('constant', 0.1, step, 10))).toEqual([0.1, 0.1, 0.1]);
  });

  it('follows η · ½(1 + cos(πt/T)) when cosine: η at the start, η/2 half-way, η(2 − √2)/4 at three quarters', () => {
    expect(scheduledLearningRate('cosine', 0.2, 0, 100)).toBe(0.2);
    expect(scheduledLearningRate('cosine', 0.2, 50, 100)).toBeCloseTo(0.1, 15);
    expect(scheduledLearningRate('cosine', 0.2, 75, 100)).toBeCloseTo((0.2 * (2 - Math.SQRT2)) / 4, 15);
    expect(scheduledLearningRate('cosine', 0.2, 100, 100)).toBeCloseTo(0, 15);
  });
});

describe('setLearningRate', () => {
  it('sets the rate of the base optimizer SAM wraps: a plain SGD step of w = 1 with gradient 2 at η 0.25 gives 0.5', () => {
    const w = tf.variable(tf.scalar(1), true, 'lr-schedule-w');
    const optimizer = new SamOptimizer({ base: muSgd(1), rule: rules.create('sam', { rho: 0, scaling: 'naive' }) });
    setLearningRate(optimizer, 0.25);
    optimizer.minimize(() => tf.mul(w, 2) as tf.Scalar, false, [w]);
    expect(w.dataSync()[0]).toBe(0.5);
    optimizer.dispose();
    w.dispose();
  });

  it('refuses an optimizer it cannot set', () => {
    const adam = tf.train.adam(0.1);
    expect(() => setLearningRate(adam, 0.2)).toThrow('Adam has no setLearningRate; expected muSgd or muAdam.');
    adam.dispose();
  });
});
