import * as tf from '@tensorflow/tfjs-core';
import { shareBuffer } from './shared-buffer.js';

/**
 * Holds the current values of every non-trainable variable (BatchNorm moving
 * statistics and the like) so that a pass can be undone: the second, perturbed
 * forward pass of a SAM step must not change them (the statistics come from the
 * first pass, at the unperturbed weights), and a rejected or failed step must
 * leave them as it found them. The snapshot shares its variables' buffers, so it
 * copies no data.
 */
export class NonTrainableSnapshot {
  private readonly saved: Array<[tf.Variable, tf.Tensor]> = [];

  constructor() {
    for (const variable of Object.values(tf.engine().registeredVariables)) {
      if (variable.trainable || variable.isDisposed) continue;
      this.saved.push([variable, tf.keep(shareBuffer(variable))]);
    }
  }

  /** Puts every saved value back and releases the snapshot. */
  restore(): void {
    for (const [variable, value] of this.saved) {
      if (!variable.isDisposed && variable.dataId !== value.dataId) variable.assign(value);
      value.dispose();
    }
    this.saved.length = 0;
  }

  /** Releases the snapshot and keeps the current values. */
  release(): void {
    for (const [, value] of this.saved) value.dispose();
    this.saved.length = 0;
  }
}
