import * as tf from '@tensorflow/tfjs';
import { columnSums } from './column-sums.js';

export interface BatchNormOptions {
  /**
   * Keras convention: moving ← momentum·moving + (1 − momentum)·batch. Default
   * 0.9 (PyTorch's 0.1 in its convention; Keras' 0.99 needs hundreds of steps
   * before inference statistics settle, longer than a laptop-scale run).
   */
  readonly momentum?: number;
  /** Added to the variance. Default 1e-5 (PyTorch). */
  readonly epsilon?: number;
}

export interface BatchNormApplyOptions {
  /** Normalise with the batch's statistics (training) or the moving ones (inference). */
  readonly training?: boolean;
  /** In training, also fold the batch statistics into the moving ones. Default: same as training. */
  readonly updateStatistics?: boolean;
}

/**
 * y = γ·(x − μ)/√(σ² + ε) + β over the last (channel) axis with the batch
 * statistics in training, given [rows, channels]. The gradient is the closed
 * form with every reduction over rows as a ones-row matMul (columnSums):
 * autodiff would reduce leading axes through transposes, slow on wasm.
 */
const trainingNormImpl = (epsilon: number, onStatistics?: (mean: tf.Tensor1D, variance: tf.Tensor1D) => void) =>
  tf.customGrad((input, gain, offset, save) => {
    const x = input as tf.Tensor2D;
    const gamma = gain as tf.Tensor1D;
    const beta = offset as tf.Tensor1D;
    const rows = x.shape[0];
    const { mean, variance, centred } = batchStatistics(x);
    // The forward of a customGrad is not taped, so the moving statistics are updated here without
    // recording anything for the backward pass or computing the statistics twice.
    onStatistics?.(mean, variance);
    const inverseStd = tf.rsqrt(tf.add(variance, epsilon));
    const normalized = tf.mul(centred, inverseStd);
    (save as tf.GradSaveFunc)([normalized, inverseStd, gamma]);
    return {
      value: tf.add(tf.mul(normalized, gamma), beta),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xHat, invStd, savedGamma] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
        const gradient = dy as tf.Tensor2D;
        const betaGradient = columnSums(gradient);
        const gammaGradient = columnSums(tf.mul(gradient, xHat));
        // dx = γ/σ · (dy − mean(dy) − x̂·mean(dy·x̂)), means over rows.
        const centredGradient = tf.sub(
          tf.sub(gradient, tf.div(betaGradient, rows)),
          tf.mul(xHat, tf.div(gammaGradient, rows)),
        );
        return [tf.mul(centredGradient, tf.mul(savedGamma, invStd)), gammaGradient, betaGradient];
      },
    };
  });

/**
 * Batch normalisation over the last axis of NHWC (or [batch, features])
 * input, Keras-style state: trainable gain γ and offset β, non-trainable
 * moving mean and variance (tf.Variables, so SamOptimizer's snapshot keeps
 * its second pass from touching them, DESIGN.md §6). Training normalises with
 * the batch statistics (biased variance, as Keras) and updates the moving
 * ones; inference uses the moving ones.
 */
export class BatchNorm {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
  readonly movingMean: tf.Variable;
  readonly movingVariance: tf.Variable;
  readonly momentum: number;
  readonly epsilon: number;
  private readonly normalizeAndUpdate: ReturnType<typeof trainingNormImpl>;
  private readonly normalizeOnly: ReturnType<typeof trainingNormImpl>;

  constructor(name: string, channels: number, options: BatchNormOptions = {}) {
    this.momentum = options.momentum ?? 0.9;
    this.epsilon = options.epsilon ?? 1e-5;
    if (!(this.momentum >= 0 && this.momentum < 1)) {
      throw new Error(`BatchNorm ${name}: momentum must be in [0, 1), got ${this.momentum}.`);
    }
    if (!(this.epsilon > 0)) throw new Error(`BatchNorm ${name}: epsilon must be > 0, got ${this.epsilon}.`);
    this.gamma = tf.tidy(() => tf.variable(tf.ones([channels]), true, `${name}/gamma`));
    this.beta = tf.tidy(() => tf.variable(tf.zeros([channels]), true, `${name}/beta`));
    this.movingMean = tf.tidy(() => tf.variable(tf.zeros([channels]), false, `${name}/moving_mean`));
    this.movingVariance = tf.tidy(() => tf.variable(tf.ones([channels]), false, `${name}/moving_variance`));
    this.normalizeOnly = trainingNormImpl(this.epsilon);
    this.normalizeAndUpdate = trainingNormImpl(this.epsilon, (mean, variance) => this.updateStatistics(mean, variance));
  }

  get trainableVariables(): tf.Variable[] {
    return [this.gamma, this.beta];
  }

  get allVariables(): tf.Variable[] {
    return [this.gamma, this.beta, this.movingMean, this.movingVariance];
  }

  apply<T extends tf.Tensor>(x: T, options: BatchNormApplyOptions = {}): T {
    const training = options.training ?? false;
    return tf.tidy(() => {
      const channels = this.gamma.shape[0] as number;
      const rows = tf.reshape(x, [-1, channels]) as tf.Tensor2D;
      if (!training) {
        const scale = tf.mul(this.gamma, tf.rsqrt(tf.add(this.movingVariance, this.epsilon)));
        const shift = tf.sub(this.beta, tf.mul(this.movingMean, scale));
        return tf.reshape(tf.add(tf.mul(rows, scale), shift), x.shape) as T;
      }
      const normalize = (options.updateStatistics ?? true) ? this.normalizeAndUpdate : this.normalizeOnly;
      return tf.reshape(normalize(rows, this.gamma, this.beta), x.shape) as T;
    });
  }

  /** x̂, the normalised input before γ and β (the input of γ for the coordinate check). */
  normalized<T extends tf.Tensor>(x: T, options: { training?: boolean } = {}): T {
    return tf.tidy(() => {
      const channels = this.gamma.shape[0] as number;
      const rows = tf.reshape(x, [-1, channels]) as tf.Tensor2D;
      const { mean, variance } = options.training
        ? batchStatistics(rows)
        : { mean: this.movingMean, variance: this.movingVariance };
      return tf.reshape(tf.mul(tf.sub(rows, mean), tf.rsqrt(tf.add(variance, this.epsilon))), x.shape) as T;
    });
  }

  dispose(): void {
    for (const variable of this.allVariables) variable.dispose();
  }

  private updateStatistics(mean: tf.Tensor1D, variance: tf.Tensor1D): void {
    tf.tidy(() => {
      const keep = this.momentum;
      this.movingMean.assign(tf.add(tf.mul(this.movingMean, keep), tf.mul(mean, 1 - keep)));
      this.movingVariance.assign(tf.add(tf.mul(this.movingVariance, keep), tf.mul(variance, 1 - keep)));
    });
  }
}

/** Mean and biased variance of each column, and the rows minus the mean. */
function batchStatistics(rows: tf.Tensor2D): { mean: tf.Tensor1D; variance: tf.Tensor1D; centred: tf.Tensor2D } {
  const count = rows.shape[0];
  const mean = tf.div(columnSums(rows), count) as tf.Tensor1D;
  const centred = tf.sub(rows, mean) as tf.Tensor2D;
  const variance = tf.div(columnSums(tf.square(centred)), count) as tf.Tensor1D;
  return { mean, variance, centred };
}
