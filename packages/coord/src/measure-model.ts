import {
  effectivePerturbations,
  type ParamRole,
  type ParamSpec,
  type PerturbationRule,
  SamOptimizer,
} from '@mup2/core';
import * as tf from '@tensorflow/tfjs-core';
import { type CoordBatch, type CoordLayer, type CoordModel, layerLabel } from './coord-model.js';
import type { ObservedRule } from './observed-rule.js';

/**
 * What the check measures of each layer after the SAM steps, at the next batch:
 * - 'perturbation': the RMS of ε·x, the change of the layer's pre-activation caused by the
 *   perturbation alone (the paper's effective perturbation, its Table 1);
 * - 'update': the RMS of Δw·x, the change caused by the steps' whole update Δw (µP's update effect);
 * - 'activation': the RMS of w·x, the layer's pre-activation (mup's coord check records the same);
 * - 'normTerm': b_p·‖N_p‖², the parameter's term in the rule's normaliser (the paper's condition
 *   (i) asks it to be Θ(1) in width).
 */
export type CoordQuantity = 'perturbation' | 'update' | 'activation' | 'normTerm';
export const COORD_QUANTITIES: readonly CoordQuantity[] = ['perturbation', 'update', 'activation', 'normTerm'];

/** One measured parameter of one model. */
export interface LayerMeasurement {
  readonly label: string;
  readonly role: ParamRole;
  readonly norm: boolean;
  /** How the parameter meets its input; undefined for a parameter only the normaliser term is known of. */
  readonly kind: CoordLayer['kind'] | undefined;
  readonly values: Partial<Record<CoordQuantity, number>>;
}

export interface MeasureModelOptions {
  readonly observed: ObservedRule;
  readonly base: tf.Optimizer;
  /** Batch `index` (0 … steps); `release` is called with each batch when the check is done with it. */
  readonly batch: (index: number) => CoordBatch;
  readonly release: (batch: CoordBatch) => void;
  readonly steps: number;
  /** The radius of the steps before the measurement, when not the rule's (0: the base optimizer's steps). */
  readonly trainRadius?: number;
}

/** `steps` SAM steps of `model`, then every quantity of every layer at batch `steps`. Disposes the optimizer, not the model. */
export function measureModel(model: CoordModel, options: MeasureModelOptions): LayerMeasurement[] {
  const specs = [...model.specs];
  const variables = specs.map((spec) => spec.variable);
  const optimizer = new SamOptimizer({ base: options.base, rule: options.observed.rule, params: specs });
  const start = new Map(specs.map((spec) => [spec.variable.name, tf.clone(spec.variable)]));
  let layers: CoordLayer[] = [];
  let perturbations: tf.NamedTensorMap = {};
  let updates: tf.NamedTensorMap = {};
  try {
    const radius = optimizer.radius;
    if (options.trainRadius !== undefined) optimizer.setRho(options.trainRadius);
    for (let step = 0; step < options.steps; step++) {
      const { x, y } = options.batch(step);
      try {
        optimizer.minimize(() => model.loss(x, y, { training: true }), false, variables);
      } finally {
        options.release({ x, y });
      }
    }
    optimizer.setRho(radius);
    const measured = options.batch(options.steps);
    try {
      options.observed.record(true);
      perturbations = optimizer.computePerturbation(
        () => model.loss(measured.x, measured.y, { training: true }),
        variables,
      );
      options.observed.record(false);
      layers = model.measuredLayers(measured.x);
    } finally {
      options.release(measured);
    }
    updates = Object.fromEntries(
      specs.map((spec) => [spec.variable.name, tf.sub(spec.variable, start.get(spec.variable.name) as tf.Tensor)]),
    );
    const weights = Object.fromEntries(specs.map((spec) => [spec.variable.name, spec.variable as tf.Tensor]));
    const perturbation = effectivePerturbations(perturbations, layers);
    const update = effectivePerturbations(updates, layers);
    // A shift's "activation" would be the offset itself, not a layer output: left out.
    const activation = effectivePerturbations(
      weights,
      layers.filter((layer) => layer.kind !== 'shift'),
    );
    return describe(specs, layers, options.observed.rule, optimizer.widthMultiplier, options.observed.normTerms, {
      perturbation,
      update,
      activation,
    });
  } finally {
    options.observed.record(false);
    tf.dispose([...start.values()]);
    tf.dispose(perturbations);
    tf.dispose(updates);
    tf.dispose(layers.flatMap((layer) => (layer.input ? [layer.input] : [])));
    optimizer.dispose();
  }
}

function describe(
  specs: readonly ParamSpec[],
  layers: readonly CoordLayer[],
  rule: PerturbationRule,
  widthMultiplier: number,
  normTerms: ReadonlyMap<string, number>,
  effects: Record<'perturbation' | 'update' | 'activation', Record<string, number>>,
): LayerMeasurement[] {
  const byName = new Map(layers.map((layer) => [layer.variableName, layer]));
  const measurements: LayerMeasurement[] = [];
  for (const spec of specs) {
    const name = spec.variable.name;
    const layer = byName.get(name);
    const values: Partial<Record<CoordQuantity, number>> = {};
    for (const quantity of ['perturbation', 'update', 'activation'] as const) {
      const value = effects[quantity][name];
      if (value !== undefined) values[quantity] = value;
    }
    const term = normTerms.get(name);
    if (term !== undefined) values.normTerm = rule.layerScale(spec, widthMultiplier).norm * term;
    if (Object.keys(values).length === 0) continue;
    measurements.push({
      label: layer ? layerLabel(layer) : layerLabel({ variableName: name, kind: 'shift' }),
      role: spec.role,
      norm: spec.norm,
      kind: layer?.kind,
      values,
    });
  }
  return measurements;
}
