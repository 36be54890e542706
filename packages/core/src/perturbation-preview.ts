import * as tf from '@tensorflow/tfjs-core';
import { ascend } from './ascent.js';
import { withKeptTensorsDisposedOnError } from './kept-tensors.js';
import { computePerturbation } from './perturbation.js';
import { PerturbedPoint } from './perturbed-gradients.js';
import { disposeProposed } from './rule-state.js';
import { NonTrainableSnapshot } from './state-snapshot.js';
import type { StepContext } from './step-context.js';

/**
 * The perturbation ε a step would apply at the current weights, by variable name, changing
 * nothing: not the weights, not BatchNorm statistics, not a v2 rule's state (read, never
 * proposed). With several ascent steps or an ascent optimizer it is the displacement of the last
 * ascent point from w (float32 differences). The caller disposes the returned tensors.
 */
export function previewPerturbation(context: StepContext, f: () => tf.Scalar): tf.NamedTensorMap {
  const { plan, rule, ruleState } = context;
  // A training-mode pass updates BatchNorm statistics: put them back, as this changes nothing.
  const state = new NonTrainableSnapshot();
  let passed: { value: tf.Scalar; grads: tf.NamedTensorMap };
  try {
    passed = withKeptTensorsDisposedOnError(() => tf.variableGrads(f, plan.selectedVariables));
  } finally {
    state.restore();
  }
  const { value, grads } = passed;
  value.dispose();
  if (context.ascentSteps === 1 && context.ascentOptimizer === undefined) {
    try {
      const { perturbations, normSquared, states } = computePerturbation(
        rule,
        plan.selected,
        grads,
        context.radius,
        plan.widthMultiplier,
        { step: context.step, states: ruleState },
      );
      normSquared.dispose();
      disposeProposed(states, ruleState);
      return perturbations;
    } finally {
      tf.dispose(grads);
    }
  }
  const point = new PerturbedPoint(plan);
  try {
    const moved = ascend({ ...context, reuse: undefined, nonFinite: 'ignore' }, point, grads, () => f, {
      releaseFirst: true,
    });
    if (moved.kind === 'moved') disposeProposed(moved.states, ruleState);
    return point.displacement();
  } finally {
    point.restore();
  }
}
