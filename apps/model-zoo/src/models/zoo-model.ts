import type { MeasuredLayer, ParamSpec } from '@mup2/core';
import type * as tf from '@tensorflow/tfjs';

/** What every model of the zoo offers the trainer, the benchmarks and the coordinate check. */
export interface ZooModel {
  readonly name: string;
  /** One ParamSpec per trainable variable, roles from a comparison with the base-width shapes. */
  readonly specs: ParamSpec[];
  readonly trainableVariables: tf.Variable[];
  /** Every variable, including non-trainable state (BatchNorm statistics), for checkpoints. */
  readonly allVariables: tf.Variable[];
  /** Logits [batch, classes]. */
  apply(x: tf.Tensor, options?: { training?: boolean }): tf.Tensor2D;
  /** Mean softmax cross-entropy against integer labels. */
  loss(x: tf.Tensor, labels: tf.Tensor1D, options?: { training?: boolean }): tf.Scalar;
  /** The layers whose effective perturbation the coordinate check measures, with their inputs at x (caller disposes inputs). */
  measuredLayers(x: tf.Tensor): MeasuredLayer[];
  dispose(): void;
}
