import { type ParamSpec, type ParamSpecFromBaseShape, paramSpecs } from '@mup2/core';
import type * as tf from '@tensorflow/tfjs';

/** A trainable parameter of an architecture at some width: what it is called, its shape, whether it is a norm gain/offset. */
export interface ParamShape {
  readonly name: string;
  readonly shape: readonly number[];
  readonly norm?: boolean;
}

/**
 * ParamSpecs for an architecture whose parameter list at any width comes from
 * `layout(width)`: each variable is compared with its shape at the base width
 * and at twice the base width, as microsoft/mup's `set_base_shapes` compares
 * with a base and a delta model. The delta tells which dimensions grow even
 * when the model is at its base width (DESIGN.md §4).
 */
export function specsFromLayout<W>(
  variables: ReadonlyMap<string, tf.Variable>,
  layout: (width: W) => ParamShape[],
  base: W,
  delta: W,
): ParamSpec[] {
  const baseShapes = layout(base);
  const deltaShapes = layout(delta);
  const entries: ParamSpecFromBaseShape[] = baseShapes.map((entry, index) => {
    const other = deltaShapes[index];
    const variable = variables.get(entry.name);
    if (other === undefined || other.name !== entry.name || variable === undefined) {
      throw new Error(
        `specsFromLayout: parameter '${entry.name}' does not exist at every width; the architecture must not change with width.`,
      );
    }
    return { variable, baseShape: entry.shape, deltaShape: other.shape, norm: entry.norm ?? false };
  });
  if (entries.length !== variables.size) {
    throw new Error(
      `specsFromLayout: the model has ${variables.size} trainable variables but its layout lists ${entries.length}.`,
    );
  }
  return paramSpecs(entries);
}
