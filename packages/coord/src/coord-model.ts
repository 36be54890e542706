import type { MeasuredLayer, Parameterization, ParamSpec } from '@mup2/core';
import type * as tf from '@tensorflow/tfjs-core';

/** A layer the check measures: core's MeasuredLayer, with the name that identifies it at every width. */
export interface CoordLayer extends MeasuredLayer {
  /**
   * The layer's name in tables and charts, the same at every width (default: the variable's
   * name without its first path segment, which usually holds a per-instance prefix).
   */
  readonly label?: string;
}

/**
 * A model at one width, as the coordinate check needs it. A hand-built model (raw variables)
 * implements it directly; a tfjs-layers model is wrapped by `fromLayersModel`.
 */
export interface CoordModel {
  /** One ParamSpec per trainable variable (role and width multipliers, see `paramSpecs` / `describeParams`). */
  readonly specs: readonly ParamSpec[];
  /** The mean loss of the batch at the current weights; `training: true` during the SAM steps. */
  loss(x: tf.Tensor, labels: tf.Tensor, options?: { training?: boolean }): tf.Scalar;
  /** The layers to measure, each with its input at x; the check disposes the inputs. */
  measuredLayers(x: tf.Tensor): CoordLayer[];
  /** Frees the model's variables; the check calls it once it is done with the model. */
  dispose(): void;
}

/** What `build` is told besides the width. */
export interface BuildContext {
  /** 1, 2, …: one model per seed and width; use it to seed the initialisation. */
  readonly seed: number;
  /** 'mup' (µP initialisation) or 'sp', from the preset being measured. */
  readonly parameterization: Parameterization;
}

/** A training or measurement batch: inputs and labels (integer classes or one-hot). */
export interface CoordBatch {
  readonly x: tf.Tensor;
  readonly y: tf.Tensor;
}

/** The layer's label: its own, else its variable's name without the first path segment. */
export function layerLabel(layer: CoordLayer): string {
  if (layer.label !== undefined) return layer.label;
  const slash = layer.variableName.indexOf('/');
  return slash >= 0 ? layer.variableName.slice(slash + 1) : layer.variableName;
}
