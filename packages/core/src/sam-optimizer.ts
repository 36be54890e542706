import * as tf from '@tensorflow/tfjs-core';
import { ChunkStatistics } from './chunk-statistics.js';
import { InvalidOptionError, NonFiniteGradientError } from './errors.js';
import { withKeptTensorsDisposedOnError } from './kept-tensors.js';
import type { NamedTensor } from './named-tensor.js';
import { assertUsableVariable, modelWidthMultiplier, type ParamSpec } from './param-spec.js';
import { computePerturbation } from './perturbation.js';
import { PerturbationReuse } from './perturbation-reuse.js';
import { assertPerturbationRule, assertRadius, type PerturbationRule } from './perturbation-rule.js';
import { gradientsAtPerturbed } from './perturbed-gradients.js';
import { assertMeaningfulSetup } from './setup-checks.js';
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
   * 'throw' and 'skip' leave everything as it was before the step: weights, optimizer state
   * and non-trainable state such as BatchNorm moving statistics, which the pass at w had
   * already updated. Weights are never left perturbed in any mode.
   */
  readonly nonFinite?: 'throw' | 'skip' | 'ignore';
  /**
   * m-sharpness (Foret et al. 2021, google-research/sam): in `minimizeOnBatch`, each chunk of
   * this many examples gets its own ε from its own gradient, and the descent gradient is the
   * mean of the chunks' gradients at their own perturbed weights (weighted by chunk size when the
   * last chunk is shorter). Default: the whole batch, exactly `minimize`. Costs one pass pair per
   * chunk. BatchNorm statistics: each chunk's unperturbed pass starts from the statistics before
   * the step, and the statistics become the chunk-size-weighted mean of what those passes left
   * (perturbed passes never change them). A loss closure cannot split a batch, so with it set
   * `minimize` (and so `model.fit`) refuses to run.
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
}

/** What a `minimizeOnBatch` loss is told about the pass it is called for. */
export interface BatchPass {
  /** false for the pass at the weights w (where metrics belong), true for the pass at w + ε. */
  readonly perturbed: boolean;
  /** The chunk of the batch (0-based) and how many there are (1 without m-sharpness). */
  readonly chunk: number;
  readonly chunks: number;
}

/** The mean loss of the examples in `inputs` (slices along axis 0 of the tensors given to minimizeOnBatch). */
export type BatchLoss = (inputs: tf.Tensor[], pass: BatchPass) => tf.Scalar;

const NON_FINITE_MODES = ['throw', 'skip', 'ignore'] as const;
const WHOLE_BATCH: BatchPass = { perturbed: false, chunk: 0, chunks: 1 };
const WHOLE_BATCH_PERTURBED: BatchPass = { perturbed: true, chunk: 0, chunks: 1 };

function positiveIntegerOption(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && value >= 1)) {
    throw new InvalidOptionError(`SamOptimizer: ${name} must be a positive integer, got ${String(value)}.`);
  }
}
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
 * first pass; a step that is not taken (a non-finite gradient under 'throw' or
 * 'skip', or an error) leaves them, like the weights, as they were.
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
  private readonly chunkSize: number | undefined;
  private readonly reuse: PerturbationReuse | undefined;
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
    assertMeaningfulSetup(base, rule, params, options.widthMultiplier);
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
    positiveIntegerOption('mSharpness', options.mSharpness);
    positiveIntegerOption('perturbationInterval', options.perturbationInterval);
    if (options.mSharpness !== undefined && (options.perturbationInterval ?? 1) > 1) {
      throw new InvalidOptionError(
        `SamOptimizer: mSharpness ${options.mSharpness} and perturbationInterval ${options.perturbationInterval} ` +
          'cannot be combined (each chunk has its own ε, and one ε is kept for reuse); choose one.',
      );
    }
    this.chunkSize = options.mSharpness;
    const interval = options.perturbationInterval ?? 1;
    this.reuse = interval > 1 ? new PerturbationReuse(interval) : undefined;
  }

  /** Examples per chunk of m-sharpness (undefined: the whole batch). */
  get mSharpness(): number | undefined {
    return this.chunkSize;
  }

  /** Steps between two computations of ε (1: every step). */
  get perturbationInterval(): number {
    return this.reuse?.interval ?? 1;
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
    if (this.mSharpness !== undefined) {
      throw new InvalidOptionError(
        `SamOptimizer: mSharpness ${this.mSharpness} splits each batch into chunks, which a loss closure cannot do; ` +
          'call minimizeOnBatch(loss, [x, y]) instead of minimize (model.fit uses minimize, so it cannot run m-sharpness).',
      );
    }
    return this.atomically(() => this.step(f, f, returnCost, varList));
  }

  /**
   * One step on a batch the optimizer can see: `loss(inputs, pass)` gives the mean loss of the
   * examples in `inputs`, slices along axis 0 of the tensors given (which stay the caller's).
   * With `mSharpness` m smaller than the batch, each chunk of m examples gets its own ε (see
   * the option); otherwise this is exactly `minimize(() => loss(inputs, …))`. `pass` says which
   * pass a call is for, so metrics can be taken at w only. The returned cost is the mean
   * (weighted by chunk size) of the chunks' losses at w (at w + ε on an ε reuse step).
   */
  minimizeOnBatch(
    loss: BatchLoss,
    inputs: readonly tf.Tensor[],
    returnCost = false,
    varList?: tf.Variable[],
  ): tf.Scalar | null {
    const size = batchSize(inputs);
    const chunk = this.mSharpness ?? size;
    if (chunk >= size) {
      const all = [...inputs];
      return this.atomically(() =>
        this.step(
          () => loss(all, WHOLE_BATCH),
          () => loss(all, WHOLE_BATCH_PERTURBED),
          returnCost,
          varList,
        ),
      );
    }
    return this.atomically(() => this.chunkedStep(loss, inputs, size, chunk, returnCost, varList));
  }

  /**
   * The perturbation ε the next step would apply at the current weights, keyed
   * by variable name, without changing anything. For analysis (the coordinate
   * check); the caller disposes the returned tensors.
   */
  computePerturbation(f: () => tf.Scalar, varList?: tf.Variable[]): tf.NamedTensorMap {
    const plan = this.planFor(varList);
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
    return [...own, ...(this.reuse?.weights() ?? []), ...(await this.base.getWeights())];
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
    const takeReuseState = await this.reuse?.prepareWeights(weightValues);
    // Only our own entries: the base's state may name model variables that start with 'sam/' too.
    // The base checks its entries before it changes anything; ours change after it, so a refused list changes nothing.
    await this.base.setWeights(
      weightValues.filter((weight) => !OWN_STATE.includes(weight.name) && !PerturbationReuse.owns(weight.name)),
    );
    takeReuseState?.();
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
      ...(this.mSharpness !== undefined && { mSharpness: this.mSharpness }),
      ...(this.reuse !== undefined && { perturbationInterval: this.reuse.interval }),
    };
  }

  override dispose(): void {
    this.reuse?.release();
    this.base.dispose();
    super.dispose();
  }

  /**
   * Runs one step so that a step not taken (rejected for a non-finite gradient, or failed) leaves
   * everything as it found it: the passes at w may have moved non-trainable state (BatchNorm moving
   * statistics), which goes back to its value before the step, and a perturbation computed for
   * reuse is dropped. A step is taken exactly when it advanced `iterations`.
   */
  private atomically(run: () => tf.Scalar | null): tf.Scalar | null {
    const state = new NonTrainableSnapshot();
    const iterations = this.iterations;
    let taken = false;
    try {
      const cost = run();
      taken = this.iterations !== iterations;
      return cost;
    } finally {
      if (taken) {
        state.release();
        this.reuse?.commit();
      } else {
        state.restore();
        this.reuse?.discard();
      }
    }
  }

  /** One SAM step with `atWeights` for the pass at w and `atPerturbed` for the pass at w + ε (the same closure for minimize). */
  private step(
    atWeights: () => tf.Scalar,
    atPerturbed: () => tf.Scalar,
    returnCost: boolean,
    varList: tf.Variable[] | undefined,
  ): tf.Scalar | null {
    const plan = this.planFor(varList);
    const radius = this.radiusForStep();
    if (radius === 0) {
      // ε = 0: the second pass would be the first one again; this is exactly the base step.
      const { value, grads } = withKeptTensorsDisposedOnError(() => tf.variableGrads(atWeights, plan.variables));
      return this.descend(value, grads, plan, returnCost);
    }
    const reusable = this.reuse?.reusable(plan, this.iterations);
    if (reusable !== undefined) {
      const perturbations = scaledPerturbations(reusable, radius);
      const { value, grads } = gradientsAtPerturbed(atPerturbed, plan, perturbations);
      return this.descend(value, grads, plan, returnCost);
    }
    const first = withKeptTensorsDisposedOnError(() => tf.variableGrads(atWeights, plan.selectedVariables));
    let perturbations: tf.NamedTensorMap;
    try {
      // With reuse, ε is kept at radius 1 and scaled by each step's radius (see perturbationInterval).
      const computed = computePerturbation(
        this.rule,
        plan.selected,
        first.grads,
        this.reuse === undefined ? radius : 1,
        plan.widthMultiplier,
      );
      if (this.nonFinite !== 'ignore' && !Number.isFinite(computed.normSquared.dataSync()[0])) {
        tf.dispose(computed.perturbations);
        computed.normSquared.dispose();
        return this.rejectStep(first.value, first.grads, returnCost, 'first (at w)');
      }
      computed.normSquared.dispose();
      perturbations = computed.perturbations;
      if (this.reuse !== undefined) {
        this.reuse.propose(plan, this.iterations, computed.perturbations);
        perturbations = scaledPerturbations(computed.perturbations, radius);
      }
    } catch (error) {
      first.value.dispose();
      throw error;
    } finally {
      tf.dispose(first.grads);
    }
    let descent: tf.NamedTensorMap;
    try {
      const perturbed = gradientsAtPerturbed(atPerturbed, plan, perturbations);
      perturbed.value.dispose();
      descent = perturbed.grads;
    } catch (error) {
      first.value.dispose();
      throw error;
    }
    return this.descend(first.value, descent, plan, returnCost);
  }

  /** An m-sharpness step: per chunk its own ε and gradient at w + ε, averaged (see the mSharpness option). */
  private chunkedStep(
    loss: BatchLoss,
    inputs: readonly tf.Tensor[],
    size: number,
    chunkSize: number,
    returnCost: boolean,
    varList: tf.Variable[] | undefined,
  ): tf.Scalar | null {
    const plan = this.planFor(varList);
    const radius = this.radiusForStep();
    const chunks = Math.ceil(size / chunkSize);
    const statistics = new ChunkStatistics();
    let cost: tf.Scalar | undefined;
    let sum: tf.NamedTensorMap = {};
    const accumulate = (value: tf.Scalar, grads: tf.NamedTensorMap, weight: number) => {
      const previous = { cost, sum };
      [cost, sum] = tf.tidy(() => {
        const next: tf.NamedTensorMap = { ...previous.sum };
        for (const [name, gradient] of Object.entries(grads)) {
          const share = tf.mul(gradient, weight);
          next[name] = previous.sum[name] === undefined ? share : tf.add(previous.sum[name] as tf.Tensor, share);
        }
        const costShare = tf.mul(value, weight) as tf.Scalar;
        return [previous.cost === undefined ? costShare : (tf.add(previous.cost, costShare) as tf.Scalar), next];
      });
      tf.dispose([value, ...Object.values(grads), ...(previous.cost ? [previous.cost] : [])]);
      tf.dispose(Object.values(previous.sum).filter((tensor) => !Object.values(sum).includes(tensor)));
    };
    const discard = () => tf.dispose([...(cost ? [cost] : []), ...Object.values(sum)]);
    try {
      for (let chunk = 0; chunk < chunks; chunk++) {
        const start = chunk * chunkSize;
        const count = Math.min(chunkSize, size - start);
        const slices = inputs.map((tensor) => tf.slice(tensor, start, count));
        const at = (perturbed: boolean) => () => loss(slices, { perturbed, chunk, chunks });
        try {
          statistics.reset();
          if (radius === 0) {
            const { value, grads } = withKeptTensorsDisposedOnError(() => tf.variableGrads(at(false), plan.variables));
            statistics.record(count / size);
            accumulate(value, grads, count / size);
            continue;
          }
          const first = withKeptTensorsDisposedOnError(() => tf.variableGrads(at(false), plan.selectedVariables));
          statistics.record(count / size);
          let perturbations: tf.NamedTensorMap;
          try {
            const computed = computePerturbation(this.rule, plan.selected, first.grads, radius, plan.widthMultiplier);
            const finite = this.nonFinite === 'ignore' || Number.isFinite(computed.normSquared.dataSync()[0]);
            computed.normSquared.dispose();
            perturbations = computed.perturbations;
            if (!finite) {
              tf.dispose(perturbations);
              statistics.restore();
              discard();
              return this.rejectStep(
                first.value,
                first.grads,
                returnCost,
                `first (at w, chunk ${chunk + 1} of ${chunks})`,
              );
            }
          } catch (error) {
            first.value.dispose();
            throw error;
          } finally {
            tf.dispose(first.grads);
          }
          let perturbed: { value: tf.Scalar; grads: tf.NamedTensorMap };
          try {
            perturbed = gradientsAtPerturbed(at(true), plan, perturbations);
          } catch (error) {
            first.value.dispose();
            throw error;
          }
          perturbed.value.dispose();
          accumulate(first.value, perturbed.grads, count / size);
        } finally {
          tf.dispose(slices);
        }
      }
    } catch (error) {
      statistics.restore();
      discard();
      throw error;
    }
    statistics.settle();
    return this.descend(cost as tf.Scalar, sum, plan, returnCost);
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

/** The number of examples of a minimizeOnBatch batch: the common first dimension of its tensors. */
function batchSize(inputs: readonly tf.Tensor[]): number {
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw new InvalidOptionError('SamOptimizer.minimizeOnBatch: expected a non-empty list of tensors, e.g. [x, y].');
  }
  inputs.forEach((tensor, index) => {
    if (!(tensor instanceof tf.Tensor) || tensor.rank < 1 || tensor.isDisposed) {
      throw new InvalidOptionError(
        `SamOptimizer.minimizeOnBatch: input ${index} is not a live tensor of rank >= 1 (batch along axis 0), got ${String(tensor)}.`,
      );
    }
  });
  const size = inputs[0]?.shape[0] as number;
  const other = inputs.findIndex((tensor) => tensor.shape[0] !== size);
  if (other >= 0) {
    throw new InvalidOptionError(
      `SamOptimizer.minimizeOnBatch: inputs hold different numbers of examples (${size} in input 0, ` +
        `${inputs[other]?.shape[0]} in input ${other}); expected one batch along axis 0.`,
    );
  }
  if (size < 1) throw new InvalidOptionError('SamOptimizer.minimizeOnBatch: the batch is empty.');
  return size;
}

/** ρ · ε̂ for each kept unit perturbation, as new tensors. */
function scaledPerturbations(unit: tf.NamedTensorMap, radius: number): tf.NamedTensorMap {
  return tf.tidy(() =>
    Object.fromEntries(Object.entries(unit).map(([name, tensor]) => [name, tf.mul(tensor, radius)])),
  );
}
