import * as tf from '@tensorflow/tfjs-core';
import { offendingNames } from './ascent.js';
import { NonFiniteGradientError } from './errors.js';
import { allFiniteTensors } from './fused-kernels.js';
import type { NamedTensor } from './named-tensor.js';
import type { RejectedPass } from './step-context.js';
import type { StepPlan } from './step-plan.js';

export interface DescentSettings {
  readonly base: tf.Optimizer;
  readonly clipNorm: number | undefined;
  readonly nonFinite: 'throw' | 'skip' | 'ignore';
}

/**
 * base.applyGradients along `grads` (every variable of the plan), after clipping to `clipNorm`
 * and checking that they are finite. The gradients are disposed. Returns undefined when the step
 * was applied, else where it found a non-finite gradient (nothing applied).
 */
export function applyDescent(
  settings: DescentSettings,
  grads: tf.NamedTensorMap,
  plan: StepPlan,
): RejectedPass | undefined {
  const { base, clipNorm, nonFinite } = settings;
  if (clipNorm === undefined && nonFinite !== 'ignore' && checksWhileApplying(base)) {
    // The base checks as it applies (muSgd: in the update's own read of each gradient where it can).
    try {
      return base.applyGradientsIfFinite(inPlanOrder(grads, plan)) ? undefined : rejectedSecond(grads);
    } finally {
      tf.dispose(grads);
    }
  }
  let gradients = grads;
  if ((clipNorm !== undefined || nonFinite !== 'ignore') && Object.keys(grads).length > 0) {
    // Clipping needs the norm, which is not finite exactly when a gradient is not (barring overflow);
    // without it only finiteness matters: one pass over the gradients (allFiniteTensors).
    const normValue = clipNorm === undefined ? undefined : globalNorm(grads);
    const finite = normValue === undefined ? allFiniteTensors(Object.values(grads)) : Number.isFinite(normValue);
    if (nonFinite !== 'ignore' && !finite) {
      const rejected = rejectedSecond(grads);
      tf.dispose(grads);
      return rejected;
    }
    if (clipNorm !== undefined && normValue !== undefined && normValue > clipNorm) {
      const factor = clipNorm / normValue;
      gradients = tf.tidy(() => {
        const clipped: tf.NamedTensorMap = {};
        for (const [name, g] of Object.entries(grads)) clipped[name] = tf.mul(g, factor);
        return clipped;
      });
      tf.dispose(grads);
    }
  }
  try {
    base.applyGradients(inPlanOrder(gradients, plan));
  } finally {
    tf.dispose(gradients);
  }
  return undefined;
}

/** A base optimizer that applies a step only when its gradients are finite (muSgd). */
interface CheckingOptimizer {
  applyGradientsIfFinite(gradients: NamedTensor[]): boolean;
}

function checksWhileApplying(base: tf.Optimizer): base is tf.Optimizer & CheckingOptimizer {
  return typeof (base as Partial<CheckingOptimizer>).applyGradientsIfFinite === 'function';
}

/** In varList order, as tf.Optimizer.minimize passes them (stateful bases key their slots by order). */
function inPlanOrder(gradients: tf.NamedTensorMap, plan: StepPlan): NamedTensor[] {
  const ordered: NamedTensor[] = [];
  for (const variable of plan.variables) {
    const tensor = gradients[variable.name];
    if (tensor !== undefined) ordered.push({ name: variable.name, tensor });
  }
  return ordered;
}

/** The second gradient's rejection, naming the gradients that are not finite. */
function rejectedSecond(grads: tf.NamedTensorMap): RejectedPass {
  return { pass: 'second', at: 'w + ε', offending: offendingNames(grads) };
}

/** ‖g‖ over all the gradients, read back. */
function globalNorm(grads: tf.NamedTensorMap): number {
  const norm = tf.tidy(() => tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))));
  const value = norm.dataSync()[0] as number;
  norm.dispose();
  return value;
}

/** The error of a step rejected for a non-finite gradient ('throw'). */
export function nonFiniteError(rejected: RejectedPass, chunkNote = ''): NonFiniteGradientError {
  const { pass, at, offending } = rejected;
  return new NonFiniteGradientError(
    `SamOptimizer: the ${pass} (at ${at}${chunkNote}) gradient is not finite for ${offending.length > 0 ? offending.map((n) => `'${n}'`).join(', ') : 'the normaliser'}; ` +
      'the weights were left unchanged. Expected finite gradients: lower the learning rate or rho, ' +
      "check the loss for log(0), or pass nonFinite: 'skip' to skip such steps.",
  );
}
