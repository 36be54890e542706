import * as tf from '@tensorflow/tfjs-core';
import { withKeptTensorsReturnedToScope } from './kept-tensors.js';
import { shareBuffer } from './shared-buffer.js';
import { NonTrainableSnapshot } from './state-snapshot.js';
import type { StepPlan } from './step-plan.js';

/**
 * The weights of a step while they are away from w: moved by one or more perturbations (the
 * ascent), and put back exactly by `restore`, because the originals are held by reference, where
 * w + ε − ε would not be exact.
 */
export class PerturbedPoint {
  private readonly originals = new Map<tf.Variable, tf.Tensor>();

  constructor(private readonly plan: StepPlan) {}

  /** Holds the value of every selected variable not yet held, so that something else (an ascent optimizer) may move them. */
  holdSelected(): void {
    for (const variable of this.plan.selectedVariables) this.hold(variable);
  }

  /** w ← w + δ for each selected variable δ names; the perturbations are disposed. */
  moveBy(perturbations: tf.NamedTensorMap): void {
    this.move(perturbations, (variable, delta) => tf.add(variable, delta));
  }

  /** w ← the given point for each selected variable `points` names (w + ε, made by computePerturbation's `moved`); the points are disposed. */
  moveTo(points: tf.NamedTensorMap): void {
    this.move(points, (_, point) => point);
  }

  /**
   * The loss and gradients of `variables` at the current point. Non-trainable state (BatchNorm
   * statistics) comes back to its value before the pass: statistics come from passes at w only.
   */
  gradients(f: () => tf.Scalar, variables: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
    const snapshot = new NonTrainableSnapshot();
    try {
      return withKeptTensorsReturnedToScope(() => tf.variableGrads(f, variables));
    } finally {
      snapshot.restore();
    }
  }

  /** The current point minus w for each moved variable (new tensors, the caller's). */
  displacement(): tf.NamedTensorMap {
    return tf.tidy(() => {
      const moved: tf.NamedTensorMap = {};
      for (const [variable, original] of this.originals) moved[variable.name] = tf.sub(variable, original);
      return moved;
    });
  }

  /** Every variable back to its exact value before the first move. */
  restore(): void {
    for (const [variable, original] of this.originals) {
      variable.assign(original);
      original.dispose();
    }
    this.originals.clear();
  }

  /** Each selected variable `values` names, held, then assigned `next(variable, value)`; `values` is disposed. */
  private move(values: tf.NamedTensorMap, next: (variable: tf.Variable, value: tf.Tensor) => tf.Tensor): void {
    try {
      for (const variable of this.plan.selectedVariables) {
        const value = values[variable.name];
        if (value === undefined) continue;
        this.hold(variable);
        const moved = next(variable, value);
        variable.assign(moved);
        if (moved !== value) moved.dispose();
      }
    } finally {
      tf.dispose(values);
    }
  }

  private hold(variable: tf.Variable): void {
    if (!this.originals.has(variable)) this.originals.set(variable, tf.keep(shareBuffer(variable)));
  }
}

/**
 * The loss and g' = ∇f(w + ε) for every variable of the plan. The weights and the
 * non-trainable state (BatchNorm statistics) are back to their values before the call
 * whatever happens: the originals are held by reference, so the return is exact. The
 * perturbations are disposed.
 */
export function gradientsAtPerturbed(
  f: () => tf.Scalar,
  plan: StepPlan,
  perturbations: tf.NamedTensorMap,
): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const point = new PerturbedPoint(plan);
  try {
    point.moveBy(perturbations);
    return point.gradients(f, plan.variables);
  } finally {
    point.restore();
  }
}
