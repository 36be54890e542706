import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError } from './errors.js';
import type { NamedTensor } from './named-tensor.js';
import { adamMultiplier, type ParamSpec } from './param-spec.js';
import { type LearningRateParameterization, PerVariableRates, variableUpdates } from './per-variable-rates.js';

export interface MuAdamOptions {
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
  /** Decoupled weight decay (AdamW): w ← w − η_p·λ·w. Default 0. */
  readonly weightDecay?: number;
  /**
   * 'mup' (default): the µP per-layer rates from `params` (η, or η / fanInMult for hidden and output
   * weights). 'sp': one rate η for every parameter although `params` are given (every variable still
   * needs a spec), e.g. for SP learning rates under µP² perturbation scaling (the paper's 'sp-lp').
   */
  readonly parameterization?: LearningRateParameterization;
}

interface Moments {
  readonly first: tf.Variable;
  readonly second: tf.Variable;
}

/**
 * Adam(W) with the µP per-layer learning rates (docs/mup2-explained.md, "µP itself"): η for input
 * and vector parameters, η / fanInMult for hidden and output weights. These are
 * real per-parameter learning rates (scaling an Adam gradient would change
 * nothing, since Adam normalises it away). Without params it is plain Adam(W).
 */
export class MuAdamOptimizer extends tf.Optimizer {
  /** The name tfjs-layers' serialization registry knows this class by. */
  static get className(): string {
    return 'MuAdam';
  }

  private readonly rates: PerVariableRates;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  private readonly weightDecay: number;
  private readonly moments = new Map<string, Moments>();

  constructor(
    private learningRate: number,
    params?: readonly ParamSpec[],
    options: MuAdamOptions = {},
  ) {
    super();
    const check = (value: number, name: string, low: number, high: number) => {
      if (!Number.isFinite(value) || value < low || value > high) {
        throw new InvalidOptionError(`muAdam: ${name} must be in [${low}, ${high}], got ${value}.`);
      }
      return value;
    };
    check(learningRate, 'learning rate', 0, Number.MAX_VALUE);
    this.rates = new PerVariableRates('muAdam', params, adamMultiplier, options.parameterization);
    this.beta1 = check(options.beta1 ?? 0.9, 'beta1', 0, 0.999999);
    this.beta2 = check(options.beta2 ?? 0.999, 'beta2', 0, 0.999999);
    this.epsilon = check(options.epsilon ?? 1e-8, 'epsilon', 0, Number.MAX_VALUE);
    this.weightDecay = check(options.weightDecay ?? 0, 'weightDecay', 0, Number.MAX_VALUE);
  }

  /** The ParamSpecs it was created with (undefined: plain Adam(W), one rate for every variable). */
  get params(): readonly ParamSpec[] | undefined {
    return this.rates.params;
  }

  /** Changes η from the next step on (a schedule). */
  setLearningRate(learningRate: number): void {
    if (!Number.isFinite(learningRate) || learningRate < 0) {
      throw new InvalidOptionError(`muAdam.setLearningRate: expected a finite number >= 0, got ${learningRate}.`);
    }
    this.learningRate = learningRate;
  }

  /**
   * One step with the given gradients (by variable name, as tf.Optimizer takes them), each variable at
   * its µP learning rate; a gradient of a variable without a spec (when params were given) fails the
   * step before any weight moves.
   */
  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const step = this.iterations + 1;
    const correction1 = 1 - this.beta1 ** step;
    const correction2 = 1 - this.beta2 ** step;
    for (const { name, variable, gradient, rate } of variableUpdates(variableGradients, this.rates)) {
      const stepSize = this.learningRate * rate;
      let moments = this.moments.get(name);
      if (moments === undefined) {
        moments = tf.tidy(() => ({
          first: tf.variable(tf.zerosLike(variable), false),
          second: tf.variable(tf.zerosLike(variable), false),
        }));
        this.moments.set(name, moments);
      }
      const { first, second } = moments;
      tf.tidy(() => {
        first.assign(tf.add(tf.mul(first, this.beta1), tf.mul(gradient, 1 - this.beta1)));
        second.assign(tf.add(tf.mul(second, this.beta2), tf.mul(tf.square(gradient), 1 - this.beta2)));
        const update = tf.div(tf.div(first, correction1), tf.add(tf.sqrt(tf.div(second, correction2)), this.epsilon));
        const decayed = this.weightDecay > 0 ? tf.mul(variable, 1 - stepSize * this.weightDecay) : variable;
        variable.assign(tf.sub(decayed, tf.mul(update, stepSize)));
      });
    }
    this.incrementIterations();
  }

  /** The step count and the per-variable state (the optimizer's own variables: dispose only the first entry), for setWeights. */
  override async getWeights(): Promise<NamedTensor[]> {
    const state: NamedTensor[] = [await this.saveIterations()];
    for (const [name, { first, second }] of this.moments) {
      state.push({ name: `${name}/m`, tensor: first }, { name: `${name}/v`, tensor: second });
    }
    return state;
  }

  /**
   * Restores the state getWeights returned (the step count, then '<variable>/m' and '<variable>/v'
   * per variable), so that training resumes bit for bit. Every name must be a variable it can step
   * (see the error otherwise); nothing changes when the list is not such a state.
   */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    // The first entry is the step count (tf.Optimizer's convention); the others are moments.
    const firsts = new Map<string, tf.Tensor>();
    const seconds = new Map<string, tf.Tensor>();
    for (const { name, tensor } of weightValues.slice(1)) {
      if (name.endsWith('/m')) firsts.set(name.slice(0, -2), tensor);
      else if (name.endsWith('/v')) seconds.set(name.slice(0, -2), tensor);
      else
        throw new InvalidOptionError(
          `muAdam.setWeights: unexpected weight '${name}'; expected '<variable>/m' or '/v'.`,
        );
    }
    for (const name of new Set([...firsts.keys(), ...seconds.keys()])) {
      if (!firsts.has(name) || !seconds.has(name)) {
        throw new InvalidOptionError(
          `muAdam.setWeights: '${name}/${firsts.has(name) ? 'm' : 'v'}' has no matching '${name}/${firsts.has(name) ? 'v' : 'm'}'.`,
        );
      }
    }
    this.rates.assertStateNames([...firsts.keys()], 'muAdam.setWeights');
    await this.extractIterations(weightValues);
    this.disposeMoments();
    for (const [name, first] of firsts) {
      const second = seconds.get(name) as tf.Tensor;
      this.moments.set(name, { first: tf.variable(first, false), second: tf.variable(second, false) });
    }
  }

  /** The hyperparameters, for logs and model.save. */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      weightDecay: this.weightDecay,
    };
  }

  /** Releases the per-variable state. */
  override dispose(): void {
    this.disposeMoments();
    super.dispose();
  }

  private disposeMoments(): void {
    for (const { first, second } of this.moments.values()) {
      first.dispose();
      second.dispose();
    }
    this.moments.clear();
  }
}

/** Adam(W) with µP per-layer learning rates (docs/mup2-explained.md, "µP itself"). */
export function muAdam(learningRate: number, params?: readonly ParamSpec[], options?: MuAdamOptions): MuAdamOptimizer {
  return new MuAdamOptimizer(learningRate, params, options);
}
