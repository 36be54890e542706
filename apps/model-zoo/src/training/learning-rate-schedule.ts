import { SamOptimizer } from '@mup2/core';
import type * as tf from '@tensorflow/tfjs';
import type { LrSchedule } from './train-config.js';

/** The learning rate of step `step` (0-based) of `totalSteps` under a schedule that starts at `lr`. */
export function scheduledLearningRate(schedule: LrSchedule, lr: number, step: number, totalSteps: number): number {
  if (schedule === 'constant') return lr;
  return 0.5 * lr * (1 + Math.cos((Math.PI * step) / totalSteps));
}

/**
 * Sets the learning rate of the optimizer a run built (its base, when SAM wraps one), so the
 * schedule drives the µP per-layer rates too: they are multiples of this one rate.
 * (tf.Optimizer's `instanceof` is duck-typed, so the class is told by its registered name.)
 */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const base = optimizer.getClassName() === SamOptimizer.className ? (optimizer as SamOptimizer).base : optimizer;
  const settable = base as tf.Optimizer & { setLearningRate?: (rate: number) => void };
  if (typeof settable.setLearningRate !== 'function') {
    throw new TypeError(`setLearningRate: ${base.getClassName()} has no setLearningRate; expected muSgd or muAdam.`);
  }
  settable.setLearningRate(lr);
}
