import type * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError } from './errors.js';
import type { ParamSpec } from './param-spec.js';
import type { PerturbationRule } from './perturbation-rule.js';
import type { AscentOptimizerFactory } from './step-context.js';

/** Options of new SamOptimizer(…): `base` and `rule` are required. */
export interface SamOptimizerOptions {
  /** The optimizer that takes the descent step with the gradient at w + ε (tf.train.sgd, muSgd, muAdam, …). */
  readonly base: tf.Optimizer;
  /** The perturbation rule: sam(), asam(), samOn() or your own (interface v1 or v2). */
  readonly rule: PerturbationRule;
  /** One ParamSpec per optimized variable. Without them every variable has width multiplier 1 (plain SAM). */
  readonly params?: readonly ParamSpec[];
  /** The model's width multiplier r. Default: read from `params` (the fan-in multiplier of the hidden weights). */
  readonly widthMultiplier?: number;
  /** A radius per step (0-based step count), e.g. a schedule. Overrides `rule.radius` and `setRho`. */
  readonly rhoSchedule?: (step: number) => number;
  /** Clip the descent gradient to this global L2 norm before the base step. */
  readonly clipNorm?: number;
  /**
   * What to do when a gradient is NaN or infinite: 'throw' (default) raises a
   * NonFiniteGradientError, 'skip' leaves the weights as they were and counts the
   * step in `skippedSteps`, 'ignore' checks nothing (no device sync; NaNs reach the weights).
   * 'throw' and 'skip' leave everything as it was before the step: weights, optimizer state
   * and non-trainable state such as BatchNorm moving statistics, which the pass at w had
   * already updated. Weights are never left perturbed in any mode.
   */
  readonly nonFinite?: 'throw' | 'skip' | 'ignore';
  /**
   * m-sharpness (Foret et al. 2021, google-research/sam): each chunk of this many examples gets
   * its own ε from its own gradient, and the descent gradient is the mean of the chunks'
   * gradients at their own perturbed weights (weighted by chunk size when the last chunk is
   * shorter). Default: the whole batch. Costs one pass pair per chunk. Runs in
   * `minimizeOnBatch`, in `minimizeInChunks`, and in `model.fit`, `fitDataset` and `trainOnBatch`
   * of a model passed to `enableMSharpness(model)` (tf-keras's SAM model does this with
   * `num_batch_splits`, but sums the chunks' gradients where this takes their mean). BatchNorm
   * statistics: each chunk's unperturbed pass starts from the statistics before the step, and the
   * statistics become the chunk-size-weighted mean of what those passes left (perturbed passes
   * never change them). A bare loss closure cannot split a batch, so `minimize` refuses to run
   * outside those.
   */
  readonly mSharpness?: number;
  /**
   * Compute ε every this many steps and reuse it in between (LookSAM-style cheap SAM; Composer's
   * `interval`). A reuse step takes one forward and backward pass, at w + ε, so it costs about
   * one SGD step; its returned cost is the loss at w + ε, its only pass, and since BatchNorm
   * statistics come from unperturbed passes only, a reuse step leaves them as they are. ε is kept
   * at radius 1 and scaled by each step's radius, so `rhoSchedule` and `setRho` still apply.
   * Holds one tensor per perturbed variable between steps; getWeights/setWeights carry it, so a
   * resumed run continues bit for bit. Default 1: every step computes ε (plain SAM).
   */
  readonly perturbationInterval?: number;
  /**
   * Adversarial updates before the descent, with optax `contrib.sam`'s semantics (`sync_period`
   * = ascentSteps + 1): the first from the gradient at w, each further one from the gradient at
   * the running perturbed point, added to the point (not projected back to radius ρ); the descent
   * gradient is the one at the last point. With the rule's ascent each update is the rule's ε at
   * that point (for `sam` naive, optax's `chain(normalize(), sgd(rho))`). Costs one more forward
   * and backward pass per step. Passes away from w never change BatchNorm statistics, and a v2
   * rule's state moves once per step, from the gradient at w. Default 1 (SAM).
   */
  readonly ascentSteps?: number;
  /**
   * Any tf.Optimizer as the ascent, as optax's `adv_optimizer`: a fresh one per step (optax's
   * default `reset_state`), made by this function from the step's radius ρ (after `rhoSchedule`
   * and `setRho`), e.g. `({ radius }) => tf.train.adam(radius)`. It is given the negated
   * gradients of the parameters the rule selects, so its descent is an ascent: for SGD,
   * momentum, Adam or RMSProp that is optax's `-adv_optimizer.update(g)`. It replaces the rule's
   * ε formula (its a_p, b_p): for µP² layerwise rates, make it from the params, e.g.
   * `({ radius }) => muSgd(radius, params)`. ρ = 0 still means no perturbation at all.
   */
  readonly ascentOptimizer?: AscentOptimizerFactory;
}

const NON_FINITE_MODES = ['throw', 'skip', 'ignore'] as const;

/** The options after validation, with their defaults. */
export interface ResolvedSamOptions {
  readonly clipNorm: number | undefined;
  readonly nonFinite: 'throw' | 'skip' | 'ignore';
  readonly mSharpness: number | undefined;
  readonly perturbationInterval: number;
  readonly ascentSteps: number;
  readonly ascentOptimizer: AscentOptimizerFactory | undefined;
}

function positiveIntegerOption(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && value >= 1)) {
    throw new InvalidOptionError(`SamOptimizer: ${name} must be a positive integer, got ${String(value)}.`);
  }
}

/** Checks the step options and refuses combinations that cannot mean what they say; names the bad value. */
export function resolveSamOptions(options: SamOptimizerOptions, rule: PerturbationRule): ResolvedSamOptions {
  if (options.clipNorm !== undefined && !(Number.isFinite(options.clipNorm) && options.clipNorm > 0)) {
    throw new InvalidOptionError(`SamOptimizer: clipNorm must be a positive finite number, got ${options.clipNorm}.`);
  }
  const nonFinite = options.nonFinite ?? 'throw';
  if (!NON_FINITE_MODES.includes(nonFinite)) {
    throw new InvalidOptionError(
      `SamOptimizer: nonFinite must be one of ${NON_FINITE_MODES.join(', ')}, got ${JSON.stringify(nonFinite)}.`,
    );
  }
  positiveIntegerOption('mSharpness', options.mSharpness);
  positiveIntegerOption('perturbationInterval', options.perturbationInterval);
  positiveIntegerOption('ascentSteps', options.ascentSteps);
  if (options.ascentOptimizer !== undefined && typeof options.ascentOptimizer !== 'function') {
    throw new InvalidOptionError(
      `SamOptimizer: ascentOptimizer must be a function that makes a tf.Optimizer from the step's radius, ` +
        `e.g. ({ radius }) => tf.train.adam(radius); got ${String(options.ascentOptimizer)}.`,
    );
  }
  const interval = options.perturbationInterval ?? 1;
  const ascentSteps = options.ascentSteps ?? 1;
  if (options.mSharpness !== undefined && interval > 1) {
    throw new InvalidOptionError(
      `SamOptimizer: mSharpness ${options.mSharpness} and perturbationInterval ${options.perturbationInterval} ` +
        'cannot be combined (each chunk has its own ε, and one ε is kept for reuse); choose one.',
    );
  }
  if (interval > 1 && (ascentSteps > 1 || options.ascentOptimizer !== undefined)) {
    throw new InvalidOptionError(
      `SamOptimizer: perturbationInterval ${interval} reuses ε scaled to each step's radius, which only the rule's ` +
        `single ascent step allows; it cannot be combined with ${ascentSteps > 1 ? `ascentSteps ${ascentSteps}` : 'an ascentOptimizer'}.`,
    );
  }
  if (
    interval > 1 &&
    rule.specificationVersion === 'v2' &&
    (rule.descent !== undefined || rule.ascends !== undefined)
  ) {
    throw new InvalidOptionError(
      `SamOptimizer: perturbationInterval ${interval} cannot be combined with rule '${rule.name}', which ` +
        `${rule.ascends !== undefined ? 'chooses its own steps without an ascent' : 'descends along its own direction from the gradients of both passes'}; ` +
        'an ε reuse step takes only the pass at w + ε.',
    );
  }
  return {
    clipNorm: options.clipNorm,
    nonFinite,
    mSharpness: options.mSharpness,
    perturbationInterval: interval,
    ascentSteps,
    ascentOptimizer: options.ascentOptimizer,
  };
}
