import * as tf from '@tensorflow/tfjs-core';
import { withKeptTensorsReturnedToScope } from './kept-tensors.js';
import { shareBuffer } from './shared-buffer.js';
import { NonTrainableSnapshot } from './state-snapshot.js';
import type { StepPlan } from './step-plan.js';

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
  const originals: Array<[tf.Variable, tf.Tensor]> = [];
  const snapshot = new NonTrainableSnapshot();
  try {
    for (const variable of plan.selectedVariables) {
      const epsilon = perturbations[variable.name];
      if (epsilon === undefined) continue;
      originals.push([variable, tf.keep(shareBuffer(variable))]);
      const perturbed = tf.add(variable, epsilon);
      variable.assign(perturbed);
      perturbed.dispose();
    }
    return withKeptTensorsReturnedToScope(() => tf.variableGrads(f, plan.variables));
  } finally {
    for (const [variable, original] of originals) {
      variable.assign(original);
      original.dispose();
    }
    snapshot.restore();
    tf.dispose(perturbations);
  }
}
