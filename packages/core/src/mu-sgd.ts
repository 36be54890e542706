import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError } from './errors.js';
import { allFiniteTensors, checkedMomentumStep, FUSED_KERNELS, hasFusedKernel, momentumStep } from './fused-kernels.js';
import type { NamedTensor } from './named-tensor.js';
import { type ParamSpec, sgdMultiplier } from './param-spec.js';
import {
  type LearningRateParameterization,
  PerVariableRates,
  type VariableUpdate,
  variableUpdates,
} from './per-variable-rates.js';

export interface MuSgdOptions {
  /** Heavy-ball momentum μ (PyTorch convention: buf ← μ·buf + g). Default 0. */
  readonly momentum?: number;
  readonly nesterov?: boolean;
  /** L2 penalty added to the gradient (PyTorch SGD's weight_decay). Default 0. */
  readonly weightDecay?: number;
  /**
   * 'mup' (default): the µP per-layer rates η·m_p from `params`. 'sp': one rate η for every
   * parameter although `params` are given (every variable still needs a spec), e.g. for the paper's
   * 'sp-lp' preset: SP learning rates under µP² perturbation scaling.
   */
  readonly parameterization?: LearningRateParameterization;
}

function checkNonNegative(value: number, name: string, context: string): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new InvalidOptionError(`${context}: ${name} must be a finite number >= 0, got ${value}.`);
  }
  return value;
}

/**
 * SGD with the µP per-layer learning rates (docs/mup2-explained.md, "µP itself"): parameter p moves
 * with η·m_p, m_p = fanOutMult / fanInMult (input r, hidden 1, output 1/r,
 * vector r). Without params it is plain SGD.
 */
export class MuSgdOptimizer extends tf.Optimizer {
  /** The name tfjs-layers' serialization registry knows this class by. */
  static get className(): string {
    return 'MuSgd';
  }

  private readonly rates: PerVariableRates;
  private readonly momentum: number;
  private readonly nesterov: boolean;
  private readonly weightDecay: number;
  private readonly buffers = new Map<string, tf.Variable>();

  constructor(
    private learningRate: number,
    params?: readonly ParamSpec[],
    options: MuSgdOptions = {},
  ) {
    super();
    checkNonNegative(learningRate, 'learning rate', 'muSgd');
    this.rates = new PerVariableRates('muSgd', params, sgdMultiplier, options.parameterization);
    this.momentum = checkNonNegative(options.momentum ?? 0, 'momentum', 'muSgd');
    this.nesterov = options.nesterov ?? false;
    this.weightDecay = checkNonNegative(options.weightDecay ?? 0, 'weightDecay', 'muSgd');
    if (this.nesterov && this.momentum === 0) {
      throw new InvalidOptionError('muSgd: nesterov needs momentum > 0, got momentum 0.');
    }
  }

  /** The ParamSpecs it was created with (undefined: plain SGD, one rate for every variable). */
  get params(): readonly ParamSpec[] | undefined {
    return this.rates.params;
  }

  /** Changes η from the next step on (a schedule). */
  setLearningRate(learningRate: number): void {
    this.learningRate = checkNonNegative(learningRate, 'learning rate', 'muSgd.setLearningRate');
  }

  /**
   * One step with the given gradients (by variable name, as tf.Optimizer takes them), each variable at
   * its µP learning rate; a gradient of a variable without a spec (when params were given) fails the
   * step before any weight moves.
   */
  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    for (const { name, variable, gradient, rate } of variableUpdates(variableGradients, this.rates)) {
      const stepSize = this.learningRate * rate;
      tf.tidy(() => {
        let direction: tf.Tensor =
          this.weightDecay > 0 ? tf.add(gradient, tf.mul(variable, this.weightDecay)) : gradient;
        if (this.momentum > 0) {
          let buffer = this.buffers.get(name);
          if (buffer !== undefined && !this.nesterov) {
            // The heavy-ball step in one pass where the backend has the fused kernel (FUSED_KERNELS).
            const [next, velocity] = momentumStep(variable, buffer, direction, stepSize, this.momentum);
            buffer.assign(velocity);
            variable.assign(next);
            return;
          }
          if (buffer === undefined) {
            // PyTorch starts the buffer at the first gradient.
            buffer = tf.variable(direction, false);
            this.buffers.set(name, buffer);
          } else {
            buffer.assign(tf.add(tf.mul(buffer, this.momentum), direction));
          }
          direction = this.nesterov ? tf.add(direction, tf.mul(buffer, this.momentum)) : buffer;
        }
        variable.assign(tf.sub(variable, tf.mul(direction, stepSize)));
      });
    }
    this.incrementIterations();
  }

  /**
   * applyGradients, taken only when every gradient is finite (no NaN, no ±Infinity); returns whether
   * it was. A step not taken changes nothing: weights, momentum buffers and step count stay. With
   * heavy-ball momentum (no Nesterov, no weight decay) on a backend that has the fused kernel
   * `checkedMomentumStep`, the check rides on the update's own read of each gradient, and every new
   * weight and buffer is held until all the gradients are known finite (for that moment, one more
   * copy of the parameters and their buffers); otherwise the gradients are checked (allFiniteTensors)
   * and then applied. SamOptimizer descends through it.
   */
  applyGradientsIfFinite(variableGradients: tf.NamedTensorMap | NamedTensor[]): boolean {
    const updates = variableUpdates(variableGradients, this.rates);
    if (!this.checksInUpdate(updates)) {
      if (!allFiniteTensors(updates.map(({ gradient }) => gradient))) return false;
      this.applyGradients(variableGradients);
      return true;
    }
    const held: Array<{ variable: tf.Variable; buffer: tf.Variable; outputs: tf.Tensor[] }> = [];
    try {
      for (const { name, variable, gradient, rate } of updates) {
        const buffer = this.buffers.get(name) as tf.Variable;
        const outputs = checkedMomentumStep(variable, buffer, gradient, this.learningRate * rate, this.momentum);
        held.push({ variable, buffer, outputs });
      }
      if (!held.every(({ outputs }) => (outputs[2] as tf.Tensor).dataSync()[0] === 1)) return false;
      for (const { variable, buffer, outputs } of held) {
        buffer.assign(outputs[1] as tf.Tensor);
        variable.assign(outputs[0] as tf.Tensor);
      }
      this.incrementIterations();
      return true;
    } finally {
      tf.dispose(held.flatMap(({ outputs }) => outputs));
    }
  }

  /** Whether every update can take the checked heavy-ball step (see applyGradientsIfFinite). */
  private checksInUpdate(updates: readonly VariableUpdate[]): boolean {
    if (this.momentum === 0 || this.nesterov || this.weightDecay > 0) return false;
    if (!hasFusedKernel(FUSED_KERNELS.checkedMomentumStep)) return false;
    return updates.every(({ name, variable, gradient }) => {
      const buffer = this.buffers.get(name);
      return (
        buffer !== undefined &&
        variable.dtype === 'float32' &&
        buffer.dtype === 'float32' &&
        gradient.dtype === 'float32'
      );
    });
  }

  /** The step count and the per-variable state (the optimizer's own variables: dispose only the first entry), for setWeights. */
  override async getWeights(): Promise<NamedTensor[]> {
    const state: NamedTensor[] = [await this.saveIterations()];
    for (const [name, buffer] of this.buffers) state.push({ name: `${name}/momentum`, tensor: buffer });
    return state;
  }

  /**
   * Restores the state getWeights returned (the step count and one momentum buffer per variable,
   * named '<variable>/momentum'), so that training resumes bit for bit. Every name must be a variable
   * it can step (see the error otherwise); nothing changes when one is not.
   */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    // The first entry is the step count (tf.Optimizer's convention); every other one a buffer.
    for (const { name } of weightValues.slice(1)) {
      if (!name.endsWith('/momentum')) {
        throw new InvalidOptionError(`muSgd.setWeights: unexpected weight '${name}'; expected '<variable>/momentum'.`);
      }
    }
    this.rates.assertStateNames(
      weightValues.slice(1).map(({ name }) => name.slice(0, -'/momentum'.length)),
      'muSgd.setWeights',
    );
    const rest = await this.extractIterations(weightValues);
    for (const buffer of this.buffers.values()) buffer.dispose();
    this.buffers.clear();
    for (const { name, tensor } of rest) {
      this.buffers.set(name.slice(0, -'/momentum'.length), tf.variable(tensor, false));
    }
  }

  /** The hyperparameters, for logs and model.save. */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      learningRate: this.learningRate,
      momentum: this.momentum,
      nesterov: this.nesterov,
      weightDecay: this.weightDecay,
    };
  }

  /** Releases the per-variable state. */
  override dispose(): void {
    for (const buffer of this.buffers.values()) buffer.dispose();
    this.buffers.clear();
    super.dispose();
  }
}

/** SGD with µP per-layer learning rates η·m_p (docs/mup2-explained.md, "µP itself"). */
export function muSgd(learningRate: number, params?: readonly ParamSpec[], options?: MuSgdOptions): MuSgdOptimizer {
  return new MuSgdOptimizer(learningRate, params, options);
}
