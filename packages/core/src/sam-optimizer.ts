import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError, NonFiniteGradientError } from './errors.js';
import { withKeptTensorsDisposedOnError, withKeptTensorsReturnedToScope } from './kept-tensors.js';
import type { NamedTensor } from './named-tensor.js';
import { assertUsableVariable, modelWidthMultiplier, type ParamSpec } from './param-spec.js';
import { computePerturbation } from './perturbation.js';
import { assertPerturbationRule, assertRadius, type PerturbationRule } from './perturbation-rule.js';
import { shareBuffer } from './shared-buffer.js';
import { NonTrainableSnapshot } from './state-snapshot.js';
import { buildStepPlan, type StepPlan } from './step-plan.js';

export interface SamOptimizerOptions {
  /** The optimizer that takes the descent step with the gradient at w + ε (tf.train.sgd, muSgd, muAdam, …). */
  readonly base: tf.Optimizer;
  /** The perturbation rule: sam(), asam(), samOn() or your own. */
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
   * Weights are never left perturbed in any mode.
   */
  readonly nonFinite?: 'throw' | 'skip' | 'ignore';
}

const NON_FINITE_MODES = ['throw', 'skip', 'ignore'] as const;
/** The entries getWeights adds before the base optimizer's state. */
const OWN_STATE: readonly string[] = ['sam/iterations', 'sam/rho', 'sam/skipped'];

/**
 * Sharpness-Aware Minimization as a tf.Optimizer (DESIGN.md §6): works in a
 * hand-written loop (`minimize(f, true, varList)`) and in `model.fit`.
 *
 * One step: g ← ∇f(w) for the parameters the rule selects; ε ← rule; w ← w + ε;
 * g' ← ∇f(w + ε) for all parameters; w ← its exact value before the ascent;
 * base.applyGradients(g'). The returned cost is the first pass's loss.
 * Non-trainable variables (BatchNorm moving statistics) keep the values of the
 * first pass.
 */
export class SamOptimizer extends tf.Optimizer {
  static get className(): string {
    return 'SamOptimizer';
  }

  readonly base: tf.Optimizer;
  readonly rule: PerturbationRule;
  private rho: number;
  private readonly specsByName: Map<string, ParamSpec> | undefined;
  private readonly fixedWidthMultiplier: number;
  private readonly rhoSchedule: ((step: number) => number) | undefined;
  private readonly clipNorm: number | undefined;
  private readonly nonFinite: 'throw' | 'skip' | 'ignore';
  private cachedPlan: { key: string; variables: tf.Variable[]; plan: StepPlan } | undefined;
  private skipped = 0;

  constructor(options: SamOptimizerOptions) {
    super();
    if (typeof options !== 'object' || options === null) {
      throw new InvalidOptionError('SamOptimizer: expected an options object { base, rule, params? }.');
    }
    const { base, rule, params } = options;
    if (typeof base !== 'object' || base === null || typeof (base as tf.Optimizer).applyGradients !== 'function') {
      throw new InvalidOptionError(
        `SamOptimizer: 'base' must be a tf.Optimizer (e.g. tf.train.sgd(0.1) or muSgd(0.1, params)), got ${String(base)}.`,
      );
    }
    assertPerturbationRule(rule);
    this.base = base;
    this.rule = rule;
    this.rho = rule.radius;
    if (params !== undefined) {
      this.specsByName = new Map();
      for (const spec of params) {
        assertUsableVariable(spec.variable, 'SamOptimizer params');
        this.specsByName.set(spec.variable.name, spec);
      }
    }
    const widthMultiplier = options.widthMultiplier ?? (params ? modelWidthMultiplier(params) : 1);
    if (!Number.isFinite(widthMultiplier) || widthMultiplier <= 0) {
      throw new InvalidOptionError(
        `SamOptimizer: widthMultiplier must be a positive finite number, got ${widthMultiplier}.`,
      );
    }
    this.fixedWidthMultiplier = widthMultiplier;
    if (options.clipNorm !== undefined && !(Number.isFinite(options.clipNorm) && options.clipNorm > 0)) {
      throw new InvalidOptionError(`SamOptimizer: clipNorm must be a positive finite number, got ${options.clipNorm}.`);
    }
    this.clipNorm = options.clipNorm;
    const nonFinite = options.nonFinite ?? 'throw';
    if (!NON_FINITE_MODES.includes(nonFinite)) {
      throw new InvalidOptionError(
        `SamOptimizer: nonFinite must be one of ${NON_FINITE_MODES.join(', ')}, got ${JSON.stringify(nonFinite)}.`,
      );
    }
    this.nonFinite = nonFinite;
    this.rhoSchedule = options.rhoSchedule;
  }

  /** The radius the next step uses (before any schedule). */
  get radius(): number {
    return this.rho;
  }

  /** Changes the radius from the next step on (adaptive or scheduled ρ from a callback). */
  setRho(rho: number): void {
    assertRadius(rho, 'SamOptimizer.setRho');
    this.rho = rho;
  }

  /** The model's width multiplier r that the rule's scaling uses. */
  get widthMultiplier(): number {
    return this.fixedWidthMultiplier;
  }

  /** Steps left out because a gradient was not finite (nonFinite: 'skip'). */
  get skippedSteps(): number {
    return this.skipped;
  }

  override minimize(f: () => tf.Scalar, returnCost = false, varList?: tf.Variable[]): tf.Scalar | null {
    const plan = this.planFor(varList);
    const radius = this.radiusForStep();
    if (radius === 0) {
      // ε = 0: the second pass would be the first one again; this is exactly the base step.
      const { value, grads } = withKeptTensorsDisposedOnError(() => tf.variableGrads(f, plan.variables));
      return this.descend(value, grads, plan, returnCost);
    }
    const first = withKeptTensorsDisposedOnError(() => tf.variableGrads(f, plan.selectedVariables));
    let perturbation: ReturnType<typeof computePerturbation>;
    try {
      perturbation = computePerturbation(this.rule, plan.selected, first.grads, radius, plan.widthMultiplier);
      if (this.nonFinite !== 'ignore' && !Number.isFinite(perturbation.normSquared.dataSync()[0])) {
        tf.dispose(perturbation.perturbations);
        perturbation.normSquared.dispose();
        return this.rejectStep(first.value, first.grads, returnCost, 'first (at w)');
      }
    } catch (error) {
      first.value.dispose();
      throw error;
    } finally {
      tf.dispose(first.grads);
    }
    perturbation.normSquared.dispose();
    let descent: tf.NamedTensorMap;
    try {
      descent = this.gradientsAtPerturbed(f, plan, perturbation.perturbations);
    } catch (error) {
      first.value.dispose();
      throw error;
    }
    return this.descend(first.value, descent, plan, returnCost);
  }

  /**
   * The perturbation ε the next step would apply at the current weights, keyed
   * by variable name, without changing anything. For analysis (the coordinate
   * check); the caller disposes the returned tensors.
   */
  computePerturbation(f: () => tf.Scalar, varList?: tf.Variable[]): tf.NamedTensorMap {
    const plan = this.planFor(varList);
    const { value, grads } = withKeptTensorsDisposedOnError(() => tf.variableGrads(f, plan.selectedVariables));
    value.dispose();
    try {
      const { perturbations, normSquared } = computePerturbation(
        this.rule,
        plan.selected,
        grads,
        this.radiusForStep(),
        plan.widthMultiplier,
      );
      normSquared.dispose();
      return perturbations;
    } finally {
      tf.dispose(grads);
    }
  }

  /** Applies gradients with the base optimizer alone (no perturbation): SAM needs the loss closure, see minimize. */
  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    this.base.applyGradients(variableGradients);
  }

  override async getWeights(): Promise<NamedTensor[]> {
    const own: NamedTensor[] = [
      { name: 'sam/iterations', tensor: tf.scalar(this.iterations, 'int32') },
      { name: 'sam/rho', tensor: tf.scalar(this.rho, 'float32') },
      { name: 'sam/skipped', tensor: tf.scalar(this.skipped, 'int32') },
    ];
    return own.concat(await this.base.getWeights());
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const read = async (name: string): Promise<number> => {
      const entry = weightValues.find((weight) => weight.name === name);
      if (entry === undefined) {
        throw new InvalidOptionError(
          `SamOptimizer.setWeights: missing '${name}'; expected the list getWeights() returned.`,
        );
      }
      return (await entry.tensor.data())[0] as number;
    };
    const iterations = await read('sam/iterations');
    const rho = await read('sam/rho');
    const skipped = await read('sam/skipped');
    assertRadius(rho, 'SamOptimizer.setWeights');
    // Only our own three entries: the base's state may name model variables that start with 'sam/' too.
    await this.base.setWeights(weightValues.filter((weight) => !OWN_STATE.includes(weight.name)));
    this.iterations_ = iterations;
    this.rho = rho;
    this.skipped = skipped;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      rule: this.rule.name,
      scaling: this.rule.scaling,
      rho: this.rho,
      widthMultiplier: this.fixedWidthMultiplier,
      base: this.base.getClassName(),
    };
  }

  override dispose(): void {
    this.base.dispose();
    super.dispose();
  }

  private planFor(varList: tf.Variable[] | undefined): StepPlan {
    const variables =
      varList ?? Object.values(tf.engine().registeredVariables).filter((variable) => variable.trainable);
    // A layer's `trainable` can change between steps (fine-tuning), so it is part of the key.
    const key = variables.map((variable) => `${variable.name}:${variable.trainable}`).join('\u0000');
    const cached = this.cachedPlan;
    if (cached !== undefined && cached.key === key && cached.variables.every((v, i) => v === variables[i])) {
      for (const variable of variables) {
        if (variable.isDisposed) assertUsableVariable(variable, 'SamOptimizer.minimize');
      }
      return cached.plan;
    }
    const plan = buildStepPlan(this.rule, variables, this.specsByName, this.fixedWidthMultiplier);
    this.cachedPlan = { key, variables: [...variables], plan };
    return plan;
  }

  private radiusForStep(): number {
    if (this.rhoSchedule === undefined) return this.rho;
    const rho = this.rhoSchedule(this.iterations);
    assertRadius(rho, `SamOptimizer rhoSchedule at step ${this.iterations}`);
    return rho;
  }

  /** g' = ∇f(w + ε); the weights and the non-trainable state are back to their values before the call, whatever happens. */
  private gradientsAtPerturbed(
    f: () => tf.Scalar,
    plan: StepPlan,
    perturbations: tf.NamedTensorMap,
  ): tf.NamedTensorMap {
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
      const { value, grads } = withKeptTensorsReturnedToScope(() => tf.variableGrads(f, plan.variables));
      value.dispose();
      return grads;
    } finally {
      for (const [variable, original] of originals) {
        variable.assign(original);
        original.dispose();
      }
      snapshot.restore();
      tf.dispose(perturbations);
    }
  }

  private descend(cost: tf.Scalar, grads: tf.NamedTensorMap, plan: StepPlan, returnCost: boolean): tf.Scalar | null {
    let gradients = grads;
    if ((this.clipNorm !== undefined || this.nonFinite !== 'ignore') && Object.keys(grads).length > 0) {
      // Without clipping only finiteness matters, and a plain sum is NaN or ±Inf exactly when some entry is
      // (barring overflow near 1e38): one reduction per tensor instead of a square and a reduction.
      const norm = tf.tidy(() =>
        this.clipNorm === undefined
          ? tf.addN(Object.values(grads).map((g) => tf.sum(g)))
          : tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))),
      );
      const normValue = norm.dataSync()[0] as number;
      norm.dispose();
      if (this.nonFinite !== 'ignore' && !Number.isFinite(normValue)) {
        return this.rejectStep(cost, grads, returnCost, 'second (at w + ε)', true);
      }
      if (this.clipNorm !== undefined && normValue > this.clipNorm) {
        const factor = this.clipNorm / normValue;
        gradients = tf.tidy(() => {
          const clipped: tf.NamedTensorMap = {};
          for (const [name, g] of Object.entries(grads)) clipped[name] = tf.mul(g, factor);
          return clipped;
        });
        tf.dispose(grads);
      }
    }
    try {
      // In varList order, as tf.Optimizer.minimize passes them (stateful bases key their slots by order).
      const ordered: NamedTensor[] = [];
      for (const variable of plan.variables) {
        const tensor = gradients[variable.name];
        if (tensor !== undefined) ordered.push({ name: variable.name, tensor });
      }
      this.base.applyGradients(ordered);
    } catch (error) {
      cost.dispose();
      throw error;
    } finally {
      tf.dispose(gradients);
    }
    this.incrementIterations();
    if (returnCost) return cost;
    cost.dispose();
    return null;
  }

  private rejectStep(
    cost: tf.Scalar,
    grads: tf.NamedTensorMap,
    returnCost: boolean,
    pass: string,
    disposeGrads = false,
  ): tf.Scalar | null {
    const offending = Object.entries(grads)
      .filter(([, g]) => !tf.tidy(() => tf.all(tf.isFinite(g)).dataSync()[0]))
      .map(([name]) => name);
    if (disposeGrads) tf.dispose(grads);
    if (this.nonFinite === 'skip') {
      this.skipped += 1;
      if (returnCost) return cost;
      cost.dispose();
      return null;
    }
    cost.dispose();
    throw new NonFiniteGradientError(
      `SamOptimizer: the ${pass} gradient is not finite for ${offending.length > 0 ? offending.map((n) => `'${n}'`).join(', ') : 'the normaliser'}; ` +
        'the weights were left unchanged. Expected finite gradients: lower the learning rate or rho, ' +
        "check the loss for log(0), or pass nonFinite: 'skip' to skip such steps.",
    );
  }
}
