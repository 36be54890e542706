import * as tf from '@tensorflow/tfjs-core';
import { batchSize } from './batch-chunks.js';
import { ChunkedStep, type ChunkedStepHost, weightedMeans } from './chunked-step.js';
import { applyDescent, nonFiniteError } from './descent.js';
import { InvalidOptionError } from './errors.js';
import type { NamedTensor } from './named-tensor.js';
import { assertUsableVariable, modelWidthMultiplier, type ParamSpec } from './param-spec.js';
import { previewPerturbation } from './perturbation-preview.js';
import { PerturbationReuse } from './perturbation-reuse.js';
import { assertPerturbationRule, assertRadius, type PerturbationRule } from './perturbation-rule.js';
import { RuleStateStore, type StateMap } from './rule-state.js';
import { type ResolvedSamOptions, resolveSamOptions, type SamOptimizerOptions } from './sam-optimizer-options.js';
import { assertMeaningfulSetup } from './setup-checks.js';
import { NonTrainableSnapshot } from './state-snapshot.js';
import type { PassLoss, PassSettings, RejectedPass, StepContext } from './step-context.js';
import { takePasses } from './step-passes.js';
import { type StepPlan, StepPlanCache } from './step-plan.js';
import { explainTfjsError } from './tfjs-error-hints.js';
import { assertOwnBackends } from './tfjs-identity.js';

export type { SamOptimizerOptions } from './sam-optimizer-options.js';

/** What a `minimizeOnBatch` loss is told about the pass it is called for. */
export interface BatchPass {
  /** false for the pass at the weights w (where metrics belong), true for passes away from w (at w + ε). */
  readonly perturbed: boolean;
  /** The chunk of the batch (0-based) and how many there are (1 without m-sharpness). */
  readonly chunk: number;
  readonly chunks: number;
}

/** The mean loss of the examples in `inputs` (slices along axis 0 of the tensors given to minimizeOnBatch). */
export type BatchLoss = (inputs: tf.Tensor[], pass: BatchPass) => tf.Scalar;

/** The entries getWeights adds before the base optimizer's state. */
const OWN_STATE: readonly string[] = ['sam/iterations', 'sam/rho', 'sam/skipped'];

/**
 * Sharpness-Aware Minimization as a tf.Optimizer: works in a hand-written loop
 * (`minimize(f, true, varList)`) and in `model.fit` (docs/quick-start.md; the step is
 * spelled out in docs/mup2-explained.md, "One SamOptimizer step").
 *
 * One step: g ← ∇f(w) for the parameters the rule selects; ε ← rule; w ← w + ε;
 * g' ← ∇f(w + ε) for all parameters; w ← its exact value before the ascent;
 * base.applyGradients(g'). The returned cost is the first pass's loss.
 * Non-trainable variables (BatchNorm moving statistics) keep the values of the
 * first pass; a step that is not taken (a non-finite gradient under 'throw' or
 * 'skip', or an error) leaves them, like the weights, as they were. The passes are one
 * pipeline (step-passes.ts) that every way of stepping runs through: several ascent steps, an
 * ascent optimizer, a v2 rule's state and descent, m-sharpness and ε reuse.
 */
export class SamOptimizer extends tf.Optimizer {
  /** The name tfjs-layers' serialization registry knows this class by. */
  static get className(): string {
    return 'SamOptimizer';
  }

  /** The optimizer that takes the descent step (the `base` option). */
  readonly base: tf.Optimizer;
  /** The perturbation rule (the `rule` option). */
  readonly rule: PerturbationRule;
  private rho: number;
  private readonly specsByName: Map<string, ParamSpec> | undefined;
  private readonly fixedWidthMultiplier: number;
  private readonly rhoSchedule: ((step: number) => number) | undefined;
  private readonly settings: ResolvedSamOptions;
  private readonly passes: PassSettings;
  private readonly reuse: PerturbationReuse | undefined;
  private readonly ruleState = new RuleStateStore();
  private readonly plans: StepPlanCache;
  private session: ChunkedStep | undefined;
  private readonly host: ChunkedStepHost;
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
    assertOwnBackends('SamOptimizer');
    const widthMultiplier = options.widthMultiplier ?? (params ? modelWidthMultiplier(params) : 1);
    if (!Number.isFinite(widthMultiplier) || widthMultiplier <= 0) {
      throw new InvalidOptionError(
        `SamOptimizer: widthMultiplier must be a positive finite number, got ${widthMultiplier}.`,
      );
    }
    this.fixedWidthMultiplier = widthMultiplier;
    this.plans = new StepPlanCache(rule, this.specsByName, widthMultiplier);
    this.settings = resolveSamOptions(options, rule);
    this.rhoSchedule = options.rhoSchedule;
    const interval = this.settings.perturbationInterval;
    this.reuse = interval > 1 ? new PerturbationReuse(interval) : undefined;
    this.passes = {
      rule,
      nonFinite: this.settings.nonFinite,
      ascentSteps: this.settings.ascentSteps,
      ascentOptimizer: this.settings.ascentOptimizer,
      reuse: this.reuse,
      ruleState: this.ruleState,
    };
    this.host = {
      ruleState: this.ruleState,
      planFor: (varList) => this.planFor(varList),
      context: (plan) => this.context(plan),
      descend: (gradients, states, plan) => this.descend(gradients, states, plan),
    };
  }

  /** Examples per chunk of m-sharpness (undefined: the whole batch). */
  get mSharpness(): number | undefined {
    return this.settings.mSharpness;
  }

  /** Steps between two computations of ε (1: every step). */
  get perturbationInterval(): number {
    return this.settings.perturbationInterval;
  }

  /** Adversarial updates before each descent (1: SAM). */
  get ascentSteps(): number {
    return this.settings.ascentSteps;
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

  /**
   * One SAM step (what `model.fit` calls per batch): calls the loss closure `f` at w, perturbs the
   * weights the rule selects by ε, calls `f` again at w + ε, puts the weights back exactly, and lets
   * the base optimizer step with the second gradient. `varList`: the variables to train (default:
   * every trainable variable). Returns the loss at w (before the step) when `returnCost`, which the
   * caller disposes; else null. A step not taken (non-finite gradient, or an error) changes nothing,
   * BatchNorm statistics included.
   */
  override minimize(f: () => tf.Scalar, returnCost = false, varList?: tf.Variable[]): tf.Scalar | null {
    if (this.session !== undefined) return this.chunkInSession(this.session, f, returnCost, varList);
    if (this.mSharpness !== undefined) {
      throw new InvalidOptionError(
        `SamOptimizer: mSharpness ${this.mSharpness} splits each batch into chunks, which a loss closure cannot do; ` +
          'call minimizeOnBatch(loss, [x, y]) instead of minimize, or for model.fit, fitDataset and trainOnBatch ' +
          'call enableMSharpness(model) once.',
      );
    }
    return this.atomically(() => this.step(() => f, returnCost, varList));
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
    const size = batchSize(inputs, 'minimizeOnBatch');
    const chunk = this.mSharpness ?? size;
    if (chunk >= size) {
      const all = [...inputs];
      const whole: PassLoss = (perturbed) => () => loss(all, { perturbed, chunk: 0, chunks: 1 });
      return this.atomically(() => this.step(whole, returnCost, varList));
    }
    return this.atomically(() => this.chunkedStep(loss, inputs, size, chunk, returnCost, varList));
  }

  /**
   * One m-sharpness step whose chunks the caller runs: `run(chunk)` is called with each chunk of
   * `inputs` (slices along axis 0, `mSharpness` examples each) and calls `minimize` once on it,
   * as the train function of a tfjs-layers model does (enableMSharpness hands it here). Each
   * chunk's `minimize` takes its passes and returns its loss without descending; after the last
   * chunk the optimizer descends once, along the chunk-size-weighted mean of the chunks'
   * directions. Returns the chunk-size-weighted mean of each scalar `run` returned (the loss and
   * metrics of a train function); the chunks' own are disposed.
   */
  minimizeInChunks<Input extends tf.Tensor | null>(
    inputs: readonly Input[],
    run: (chunk: Input[]) => tf.Scalar[],
  ): tf.Scalar[] {
    const size = batchSize(inputs, 'minimizeInChunks', true);
    if (this.session !== undefined) {
      throw new InvalidOptionError('SamOptimizer.minimizeInChunks: a chunked step is already under way.');
    }
    return this.atomically(() => {
      const step = new ChunkedStep(this.host);
      const outputs: Array<{ weight: number; values: tf.Scalar[] }> = [];
      this.session = step;
      try {
        step.forEachChunk(inputs, size, this.mSharpness ?? size, (slices) => {
          outputs.push({ weight: step.chunkWeight, values: run(slices) });
        });
      } catch (error) {
        tf.dispose(outputs.flatMap((output) => output.values));
        throw error;
      } finally {
        this.session = undefined;
      }
      const mean = weightedMeans(outputs);
      const { rejected } = step.end();
      if (rejected !== undefined) this.rejectStep(rejected, mean, step.rejectedChunk);
      return mean;
    });
  }

  /**
   * The perturbation ε the next step would apply at the current weights, keyed
   * by variable name, without changing anything. For analysis (the coordinate
   * check); the caller disposes the returned tensors. With several ascent steps or an ascent
   * optimizer it is the displacement of the last ascent point from w (float32 differences).
   */
  computePerturbation(f: () => tf.Scalar, varList?: tf.Variable[]): tf.NamedTensorMap {
    try {
      return previewPerturbation(this.context(this.planFor(varList)), f);
    } catch (error) {
      throw explainTfjsError(error, 'SamOptimizer.computePerturbation');
    }
  }

  /** Applies gradients with the base optimizer alone (no perturbation): SAM needs the loss closure, see minimize. */
  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    this.base.applyGradients(variableGradients);
  }

  /**
   * The optimizer's whole state, for resuming bit for bit with setWeights: its step count, radius and
   * skipped steps ('sam/…'), a kept ε and rule state if any, then the base optimizer's state (whose
   * entries are the base's own variables: dispose only the others). Save it with the model; see
   * docs/quick-start.md, "Save and resume".
   */
  override async getWeights(): Promise<NamedTensor[]> {
    const own: NamedTensor[] = [
      { name: 'sam/iterations', tensor: tf.scalar(this.iterations, 'int32') },
      { name: 'sam/rho', tensor: tf.scalar(this.rho, 'float32') },
      { name: 'sam/skipped', tensor: tf.scalar(this.skipped, 'int32') },
    ];
    return [...own, ...(this.reuse?.weights() ?? []), ...this.ruleState.weights(), ...(await this.base.getWeights())];
  }

  /**
   * Restores what getWeights returned (copies; the list stays the caller's). The base optimizer's
   * entries are keyed by variable name: restore after building the model they were saved with. A list
   * that is refused (an entry missing, a radius that is not one, state for variables that do not exist)
   * changes nothing.
   */
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
    const takeRuleState = this.ruleState.prepareWeights(weightValues);
    // Only our own entries: the base's state may name model variables that start with 'sam/' too.
    // The base checks its entries before it changes anything; ours change after it, so a refused list changes nothing.
    await this.base.setWeights(
      weightValues.filter(
        (weight) =>
          !OWN_STATE.includes(weight.name) && !PerturbationReuse.owns(weight.name) && !RuleStateStore.owns(weight.name),
      ),
    );
    takeReuseState?.();
    takeRuleState();
    this.iterations_ = iterations;
    this.rho = rho;
    this.skipped = skipped;
  }

  /** The rule, scaling, radius, width multiplier, base optimizer and step options, for logs and model.save. */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      rule: this.rule.name,
      scaling: this.rule.scaling,
      rho: this.rho,
      widthMultiplier: this.fixedWidthMultiplier,
      base: this.base.getClassName(),
      ...(this.mSharpness !== undefined && { mSharpness: this.mSharpness }),
      ...(this.reuse !== undefined && { perturbationInterval: this.reuse.interval }),
      ...(this.ascentSteps !== 1 && { ascentSteps: this.ascentSteps }),
      ...(this.settings.ascentOptimizer !== undefined && { ascentOptimizer: true }),
    };
  }

  /** Releases the kept ε, the rule state and the base optimizer's state. */
  override dispose(): void {
    this.reuse?.release();
    this.ruleState.release();
    this.base.dispose();
    super.dispose();
  }

  /**
   * Runs one step so that a step not taken (rejected for a non-finite gradient, or failed) leaves
   * everything as it found it: the passes at w may have moved non-trainable state (BatchNorm moving
   * statistics), which goes back to its value before the step, and a perturbation computed for
   * reuse or a rule state proposed for the next step is dropped. A step is taken exactly when it
   * advanced `iterations`.
   */
  private atomically<T>(run: () => T): T {
    const state = new NonTrainableSnapshot();
    const iterations = this.iterations;
    let taken = false;
    try {
      const result = run();
      taken = this.iterations !== iterations;
      return result;
    } catch (error) {
      throw explainTfjsError(error, 'SamOptimizer');
    } finally {
      if (taken) {
        state.release();
        this.reuse?.commit();
        this.ruleState.commit();
      } else {
        state.restore();
        this.reuse?.discard();
        this.ruleState.discard();
      }
    }
  }

  /** An m-sharpness step of minimizeOnBatch: per chunk its own passes, the directions averaged. */
  private chunkedStep(
    loss: BatchLoss,
    inputs: readonly tf.Tensor[],
    size: number,
    chunkSize: number,
    returnCost: boolean,
    varList: tf.Variable[] | undefined,
  ): tf.Scalar | null {
    const step = new ChunkedStep(this.host);
    let rejectedCost: tf.Scalar | undefined;
    step.forEachChunk(inputs, size, chunkSize, (slices, chunk, chunks) => {
      rejectedCost = step.chunk((perturbed) => () => loss(slices, { perturbed, chunk, chunks }), varList, true);
    });
    const { cost, rejected } = step.end();
    return this.finish(cost ?? (rejectedCost as tf.Scalar), rejected, returnCost, step.rejectedChunk);
  }

  /** A chunk of a minimizeInChunks step: its passes, its direction added to the step's; its loss returned. */
  private chunkInSession(
    step: ChunkedStep,
    f: () => tf.Scalar,
    returnCost: boolean,
    varList: tf.Variable[] | undefined,
  ): tf.Scalar | null {
    const cost = step.chunk(() => f, varList, false) as tf.Scalar;
    // A rejection is counted once the step ends (minimizeInChunks); under 'throw' the step ends here.
    if (step.rejected !== undefined && this.settings.nonFinite === 'throw') {
      cost.dispose();
      throw nonFiniteError(step.rejected);
    }
    return this.finish(cost, undefined, returnCost);
  }

  /** One step on one batch: its passes, then the descent. */
  private step(loss: PassLoss, returnCost: boolean, varList: tf.Variable[] | undefined): tf.Scalar | null {
    const plan = this.planFor(varList);
    const outcome = takePasses(this.context(plan), loss);
    if (outcome.kind === 'rejected') return this.finish(outcome.cost, outcome, returnCost);
    let rejected: RejectedPass | undefined;
    try {
      rejected = this.descend(outcome.gradients, outcome.states, plan);
    } catch (error) {
      outcome.cost.dispose();
      throw error;
    }
    return this.finish(outcome.cost, rejected, returnCost);
  }

  /** The cost as `minimize` returns it, after a step that was taken or `rejected`. */
  private finish(
    cost: tf.Scalar,
    rejected: RejectedPass | undefined,
    returnCost: boolean,
    chunkNote = '',
  ): tf.Scalar | null {
    if (rejected !== undefined) this.rejectStep(rejected, [cost], chunkNote);
    if (returnCost) return cost;
    cost.dispose();
    return null;
  }

  /** The base step along `gradients` (disposed), the proposed rule states with it; a rejection if not finite. */
  private descend(
    gradients: tf.NamedTensorMap,
    states: StateMap | undefined,
    plan: StepPlan,
  ): RejectedPass | undefined {
    if (states !== undefined) this.ruleState.propose(states);
    const rejected = applyDescent(
      { base: this.base, clipNorm: this.settings.clipNorm, nonFinite: this.settings.nonFinite },
      gradients,
      plan,
    );
    if (rejected === undefined) this.incrementIterations();
    return rejected;
  }

  /** A step not taken for a non-finite gradient: counted under 'skip', a NonFiniteGradientError under 'throw'. */
  private rejectStep(rejected: RejectedPass, dispose?: tf.Tensor[], chunkNote = ''): void {
    if (this.settings.nonFinite === 'skip') {
      this.skipped += 1;
      return;
    }
    if (dispose !== undefined) tf.dispose(dispose);
    throw nonFiniteError(rejected, chunkNote);
  }

  private context(plan: StepPlan): StepContext {
    return { ...this.passes, plan, radius: this.radiusForStep(), step: this.iterations };
  }

  private planFor(varList: tf.Variable[] | undefined): StepPlan {
    return this.plans.planFor(varList, () =>
      Object.values(tf.engine().registeredVariables).filter((variable) => variable.trainable),
    );
  }

  private radiusForStep(): number {
    if (this.rhoSchedule === undefined) return this.rho;
    const rho = this.rhoSchedule(this.iterations);
    assertRadius(rho, `SamOptimizer rhoSchedule at step ${this.iterations}`);
    return rho;
  }
}
