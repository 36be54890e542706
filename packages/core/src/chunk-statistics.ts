import * as tf from '@tensorflow/tfjs-core';
import { shareBuffer } from './shared-buffer.js';

/**
 * The non-trainable state (BatchNorm moving statistics) across the chunks of an
 * m-sharpness step. Every chunk's unperturbed pass starts from the state before the step;
 * `record` keeps the state that pass left, and `settle` sets each changed variable to the
 * mean of those states weighted by chunk size. For a moving average that is one update with
 * the mean of the chunks' statistics: what data-parallel SAM gets by averaging each device's
 * statistics. Perturbed passes never reach it (they restore the state they found).
 */
export class ChunkStatistics {
  private readonly before: Array<[tf.Variable, tf.Tensor]> = [];
  private readonly recorded: Array<{ weight: number; values: tf.Tensor[] }> = [];

  constructor() {
    for (const variable of Object.values(tf.engine().registeredVariables)) {
      if (variable.trainable || variable.isDisposed) continue;
      this.before.push([variable, tf.keep(shareBuffer(variable))]);
    }
  }

  /** Puts back the state of before the step (for the next chunk, or on failure). */
  reset(): void {
    for (const [variable, value] of this.before) {
      if (!variable.isDisposed && variable.dataId !== value.dataId) variable.assign(value);
    }
  }

  /** Keeps the current state as that of a chunk of this weight (its share of the batch). */
  record(weight: number): void {
    this.recorded.push({ weight, values: this.before.map(([variable]) => tf.keep(shareBuffer(variable))) });
  }

  /** Sets each variable that some chunk changed to the weighted mean of the recorded states, and releases everything. */
  settle(): void {
    this.before.forEach(([variable, value], index) => {
      const states = this.recorded.map(({ weight, values }) => ({ weight, value: values[index] as tf.Tensor }));
      if (variable.isDisposed || states.every((state) => state.value.dataId === value.dataId)) return;
      if (variable.dtype !== 'float32') {
        // A counter or flag: every chunk moved it alike; the first chunk's value stands for all.
        variable.assign(states[0]?.value as tf.Tensor);
        return;
      }
      tf.tidy(() => variable.assign(tf.addN(states.map((state) => tf.mul(state.value, state.weight)))));
    });
    this.dispose();
  }

  /** Puts back the state of before the step and releases everything. */
  restore(): void {
    this.reset();
    this.dispose();
  }

  private dispose(): void {
    for (const [, value] of this.before) value.dispose();
    for (const { values } of this.recorded) tf.dispose(values);
    this.before.length = 0;
    this.recorded.length = 0;
  }
}
