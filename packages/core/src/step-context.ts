import type * as tf from '@tensorflow/tfjs-core';
import type { PerturbationReuse } from './perturbation-reuse.js';
import type { PerturbationRule } from './perturbation-rule.js';
import type { RuleStateStore, StateMap } from './rule-state.js';
import type { StepPlan } from './step-plan.js';

/** What an ascent optimizer factory is told: the step's radius ρ (after any schedule) and the step count. */
export interface AscentContext {
  readonly radius: number;
  readonly step: number;
}

/** Makes the optimizer of one step's ascent (a fresh one each time: its state starts anew, as optax resets `adv_state`). */
export type AscentOptimizerFactory = (ascent: AscentContext) => tf.Optimizer;

/** How a SamOptimizer takes its passes; fixed when it is built. */
export interface PassSettings {
  readonly rule: PerturbationRule;
  readonly nonFinite: 'throw' | 'skip' | 'ignore';
  /** Adversarial updates before the pass at w + ε (optax `sync_period` − 1). */
  readonly ascentSteps: number;
  readonly ascentOptimizer: AscentOptimizerFactory | undefined;
  readonly reuse: PerturbationReuse | undefined;
  readonly ruleState: RuleStateStore;
}

/** Everything one step's passes need. */
export interface StepContext extends PassSettings {
  readonly plan: StepPlan;
  /** ρ of this step, after any schedule. */
  readonly radius: number;
  /** The optimizer's `iterations` before the step. */
  readonly step: number;
}

/** The loss closure of one pass: at w (`perturbed` false, where metrics belong) or away from it. */
export type PassLoss = (perturbed: boolean) => () => tf.Scalar;

/** Where a rejected step found its non-finite gradient, for the error message. */
export interface RejectedPass {
  /** 'first', 'second' or 'ascent step k'. */
  readonly pass: string;
  /** 'w' or 'w + ε'. */
  readonly at: string;
  /** The variables whose gradient is not finite (empty: only the normaliser is). */
  readonly offending: string[];
}

/** What the passes of one batch (or one chunk of it) give: a descent direction, or a rejection. */
export type PassOutcome =
  | {
      readonly kind: 'descent';
      /** The loss to report: of the pass at w (of the pass at w + ε on an ε reuse step). */
      readonly cost: tf.Scalar;
      /** The direction to descend along, for every variable of the plan. */
      readonly gradients: tf.NamedTensorMap;
      /** A v2 rule's proposed states. */
      readonly states: StateMap | undefined;
    }
  | ({ readonly kind: 'rejected'; readonly cost: tf.Scalar } & RejectedPass);
