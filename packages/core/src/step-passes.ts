import * as tf from '@tensorflow/tfjs-core';
import { ascend, scaledPerturbations } from './ascent.js';
import { withKeptTensorsDisposedOnError } from './kept-tensors.js';
import { gradientsAtPerturbed, PerturbedPoint } from './perturbed-gradients.js';
import { ascendsThisStep, combineDescent, hasOwnDescent } from './rule-descent.js';
import { disposeProposed } from './rule-state.js';
import type { PassLoss, PassOutcome, StepContext } from './step-context.js';

const nothing = () => {};

/**
 * The passes of one step on one batch (or one chunk of it), as one pipeline:
 *
 *   pass at w → ascent (the rule's ε, or several ascent steps, or an ascent optimizer)
 *   → pass at w + ε → combine (a v2 rule's own descent) → the descent direction.
 *
 * ρ = 0 takes only the pass at w (exactly the base step); an ε reuse step only the pass at
 * w + ε with the kept ε; a v2 rule may take a step without the ascent (only the pass at w).
 * `afterWeightsPass` runs right after the pass at w (m-sharpness records BatchNorm statistics
 * there). The weights are back at w when this returns or throws, and so is every non-trainable
 * variable the passes away from w touched. Nothing is descended here.
 */
export function takePasses(context: StepContext, loss: PassLoss, afterWeightsPass: () => void = nothing): PassOutcome {
  const { plan, radius } = context;
  if (radius === 0) {
    // ε = 0: the pass at w + ε would be the pass at w again; this is exactly the base step.
    const { value, grads } = withKeptTensorsDisposedOnError(() => tf.variableGrads(loss(false), plan.variables));
    afterWeightsPass();
    return { kind: 'descent', cost: value, gradients: grads, states: undefined };
  }
  const reusable = context.reuse?.reusable(plan, context.step);
  if (reusable !== undefined) {
    const { value, grads } = gradientsAtPerturbed(loss(true), plan, scaledPerturbations(reusable, radius));
    return { kind: 'descent', cost: value, gradients: grads, states: undefined };
  }
  if (!ascendsThisStep(context)) {
    const { value, grads } = withKeptTensorsDisposedOnError(() => tf.variableGrads(loss(false), plan.variables));
    afterWeightsPass();
    try {
      const { gradients, states } = combineDescent(context, grads, undefined, undefined);
      return { kind: 'descent', cost: value, gradients, states };
    } catch (error) {
      tf.dispose([value, ...Object.values(grads)]);
      throw error;
    }
  }
  const first = withKeptTensorsDisposedOnError(() => tf.variableGrads(loss(false), plan.selectedVariables));
  afterWeightsPass();
  const keepFirst = hasOwnDescent(context);
  const point = new PerturbedPoint(plan);
  let perturbed: tf.NamedTensorMap | undefined;
  let proposed: ReturnType<typeof ascend> | undefined;
  try {
    proposed = ascend(context, point, first.grads, loss, { releaseFirst: !keepFirst });
    if (proposed.kind === 'rejected') {
      if (keepFirst) tf.dispose(first.grads);
      const { pass, at, offending } = proposed;
      return { kind: 'rejected', cost: first.value, pass, at, offending };
    }
    const atPerturbed = point.gradients(loss(true), plan.variables);
    atPerturbed.value.dispose();
    perturbed = atPerturbed.grads;
  } catch (error) {
    first.value.dispose();
    if (keepFirst) tf.dispose(first.grads);
    if (proposed?.kind === 'moved') disposeProposed(proposed.states, context.ruleState);
    throw error;
  } finally {
    point.restore();
  }
  if (!keepFirst) return { kind: 'descent', cost: first.value, gradients: perturbed, states: asMap(proposed.states) };
  try {
    const { gradients, states } = combineDescent(context, first.grads, perturbed, proposed.states);
    return { kind: 'descent', cost: first.value, gradients, states };
  } catch (error) {
    tf.dispose([first.value, ...Object.values(perturbed)]);
    disposeProposed(proposed.states, context.ruleState);
    throw error;
  } finally {
    tf.dispose(first.grads);
  }
}

function asMap<T>(record: Record<string, T> | undefined): Map<string, T> | undefined {
  return record === undefined ? undefined : new Map(Object.entries(record));
}
