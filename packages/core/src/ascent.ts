import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError } from './errors.js';
import { allFiniteTensors } from './fused-kernels.js';
import { computePerturbation, type RuleStateContext } from './perturbation.js';
import type { ParameterState } from './perturbation-rule-v2.js';
import type { PerturbedPoint } from './perturbed-gradients.js';
import { disposeProposed } from './rule-state.js';
import type { AscentOptimizerFactory, PassLoss, RejectedPass, StepContext } from './step-context.js';

/** What the ascent did: moved the point (with the rule's proposed states), or found a non-finite gradient. */
export type AscentOutcome =
  | { readonly kind: 'moved'; readonly states: Record<string, ParameterState> | undefined }
  | ({ readonly kind: 'rejected' } & RejectedPass);

export interface AscentOptions {
  /** Dispose the gradients at w once they are used (a rule whose descent needs them keeps them). */
  readonly releaseFirst: boolean;
}

/** The names of the gradients that hold NaN or ±Infinity, in the map's order. */
export function offendingNames(grads: tf.NamedTensorMap): string[] {
  return Object.entries(grads)
    .filter(([, g]) => !tf.tidy(() => tf.all(tf.isFinite(g)).dataSync()[0]))
    .map(([name]) => name);
}

/** Whether every entry of every gradient is finite (allFiniteTensors). */
export function allFinite(grads: tf.NamedTensorMap): boolean {
  return allFiniteTensors(Object.values(grads));
}

/** ρ · ε̂ for each kept unit perturbation, as new tensors. */
export function scaledPerturbations(unit: tf.NamedTensorMap, radius: number): tf.NamedTensorMap {
  return tf.tidy(() =>
    Object.fromEntries(Object.entries(unit).map(([name, tensor]) => [name, tf.mul(tensor, radius)])),
  );
}

/**
 * Moves `point` from w to w + ε, starting from the gradients at w of the selected parameters.
 * One ascent step is the rule's ε (ε reuse keeps it at radius 1 and scales it); with
 * `ascentSteps` K > 1 each further step adds the rule's perturbation computed from the gradient at
 * the running point, as optax `contrib.sam` takes `sync_period` − 1 adversarial updates; with an
 * ascent optimizer, that optimizer moves the point along −(its own descent) of each gradient.
 * Intermediate passes leave non-trainable state as they found it. A v2 rule's state moves once
 * per step, from the gradient at w: later ascent steps read the kept state and propose nothing.
 */
export function ascend(
  context: StepContext,
  point: PerturbedPoint,
  firstGrads: tf.NamedTensorMap,
  loss: PassLoss,
  options: AscentOptions,
): AscentOutcome {
  let released = false;
  const releaseFirst = () => {
    if (options.releaseFirst && !released) tf.dispose(firstGrads);
    released = true;
  };
  try {
    return context.ascentOptimizer === undefined
      ? ascendByRule(context, point, firstGrads, loss, releaseFirst)
      : ascendWithOptimizer(context, point, firstGrads, loss, releaseFirst);
  } finally {
    releaseFirst();
  }
}

function ascendByRule(
  context: StepContext,
  point: PerturbedPoint,
  firstGrads: tf.NamedTensorMap,
  loss: PassLoss,
  releaseFirst: () => void,
): AscentOutcome {
  const { rule, plan, radius, reuse } = context;
  const stateContext: RuleStateContext | undefined =
    rule.specificationVersion === 'v2' ? { step: context.step, states: context.ruleState } : undefined;
  let states: Record<string, ParameterState> | undefined;
  try {
    // With reuse, ε is kept at radius 1 and scaled by each step's radius (see perturbationInterval).
    // Without reuse ε itself is not kept: the weights w + ε come straight out (one pass each).
    const computed = computePerturbation(
      rule,
      plan.selected,
      firstGrads,
      reuse === undefined ? radius : 1,
      plan.widthMultiplier,
      stateContext,
      reuse === undefined,
    );
    states = computed.states;
    const finite = context.nonFinite === 'ignore' || Number.isFinite(computed.normSquared.dataSync()[0]);
    computed.normSquared.dispose();
    if (!finite) {
      tf.dispose([computed.perturbations, computed.moved ?? {}]);
      disposeProposed(states, context.ruleState);
      return { kind: 'rejected', pass: 'first', at: 'w', offending: offendingNames(firstGrads) };
    }
    releaseFirst();
    if (reuse !== undefined) {
      reuse.propose(plan, context.step, computed.perturbations);
      point.moveBy(scaledPerturbations(computed.perturbations, radius));
    } else {
      point.moveTo(computed.moved ?? {});
    }
    for (let ascentStep = 2; ascentStep <= context.ascentSteps; ascentStep++) {
      const at = point.gradients(loss(true), plan.selectedVariables);
      at.value.dispose();
      let next: ReturnType<typeof computePerturbation>;
      try {
        next = computePerturbation(rule, plan.selected, at.grads, radius, plan.widthMultiplier, stateContext, true);
        disposeProposed(next.states, context.ruleState);
        const nextFinite = context.nonFinite === 'ignore' || Number.isFinite(next.normSquared.dataSync()[0]);
        next.normSquared.dispose();
        if (!nextFinite) {
          tf.dispose(next.moved ?? {});
          disposeProposed(states, context.ruleState);
          return {
            kind: 'rejected',
            pass: `ascent step ${ascentStep}`,
            at: 'w + ε',
            offending: offendingNames(at.grads),
          };
        }
      } finally {
        tf.dispose(at.grads);
      }
      point.moveTo(next.moved ?? {});
    }
    return { kind: 'moved', states };
  } catch (error) {
    disposeProposed(states, context.ruleState);
    throw error;
  }
}

/** An ascent optimizer's turn: it steps along the negated gradient, so its descent is our ascent. */
function ascendWithOptimizer(
  context: StepContext,
  point: PerturbedPoint,
  firstGrads: tf.NamedTensorMap,
  loss: PassLoss,
  releaseFirst: () => void,
): AscentOutcome {
  const { plan } = context;
  const factory = context.ascentOptimizer as AscentOptimizerFactory;
  const optimizer = factory({ radius: context.radius, step: context.step });
  if (typeof optimizer !== 'object' || optimizer === null || typeof optimizer.applyGradients !== 'function') {
    throw new InvalidOptionError(
      `SamOptimizer: ascentOptimizer returned ${String(optimizer)}; expected a tf.Optimizer (e.g. tf.train.adam(radius)).`,
    );
  }
  point.holdSelected();
  let grads = firstGrads;
  try {
    for (let ascentStep = 1; ascentStep <= context.ascentSteps; ascentStep++) {
      if (context.nonFinite !== 'ignore' && !allFinite(grads)) {
        return ascentStep === 1
          ? { kind: 'rejected', pass: 'first', at: 'w', offending: offendingNames(grads) }
          : { kind: 'rejected', pass: `ascent step ${ascentStep}`, at: 'w + ε', offending: offendingNames(grads) };
      }
      const current = grads;
      const negated = tf.tidy(() =>
        plan.selectedVariables
          .filter((variable) => current[variable.name] !== undefined)
          .map((variable) => ({ name: variable.name, tensor: tf.neg(current[variable.name] as tf.Tensor) })),
      );
      try {
        optimizer.applyGradients(negated);
      } finally {
        tf.dispose(negated.map((entry) => entry.tensor));
      }
      if (grads === firstGrads) releaseFirst();
      else tf.dispose(grads);
      grads = {};
      if (ascentStep < context.ascentSteps) {
        const at = point.gradients(loss(true), plan.selectedVariables);
        at.value.dispose();
        grads = at.grads;
      }
    }
    return { kind: 'moved', states: undefined };
  } finally {
    if (grads !== firstGrads) tf.dispose(grads);
    optimizer.dispose();
  }
}
