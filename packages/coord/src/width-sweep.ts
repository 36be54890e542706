import { InvalidOptionError, muSgd, type Parameterization, type ParamRole, type ParamSpec } from '@mup2/core';
import * as tf from '@tensorflow/tfjs-core';
import type { BuildContext, CoordBatch, CoordModel } from './coord-model.js';
import { fromLayersModel, type LayersLoss, type LayersModelLike } from './layers-model.js';
import { type CoordQuantity, type LayerMeasurement, measureModel } from './measure-model.js';
import type { ObservedRule } from './observed-rule.js';

/** Builds the model at a width: a CoordModel, or a tfjs-layers model that the check wraps with `fromLayersModel`. */
export type BuildModel = (width: number, context: BuildContext) => CoordModel | LayersModelLike;

/** What every run of the check shares: the models, the data, the training before the measurement. */
export interface SweepSettings {
  readonly model: BuildModel;
  readonly widths: readonly number[];
  /** A fixed batch (stays yours), or batch `index` on demand (the check disposes it). */
  readonly data: CoordBatch | ((index: number) => CoordBatch);
  /** SAM steps before the measurement (0: measure at initialisation). Default 3. */
  readonly steps?: number;
  /** Models per width, each with its own initialisation (and batches, when `data` is a function). Default 2. */
  readonly seeds?: number;
  /** Learning rate of the default base optimizer, µP-SGD (`muSgd`). Default 0.1. */
  readonly learningRate?: number;
  /**
   * The base optimizer of each model; `specs` is undefined under the 'sp' parameterization.
   * Default: µP-SGD (`muSgd(learningRate, specs)`) under µP, plain SGD under SP.
   */
  readonly optimizer?: (specs: readonly ParamSpec[] | undefined) => tf.Optimizer;
  /** A tfjs-layers model's base width (default: the smallest width); ParamSpecs come from comparing with it. */
  readonly baseWidth?: number;
  /** A tfjs-layers model's loss (default: softmax cross-entropy) and µP readout initialisation. */
  readonly layers?: { readonly loss?: LayersLoss; readonly readout?: 'scaled' | 'zero' };
}

/** One parameter's values at every width, per seed: `values[quantity][seed][width index]`. */
export interface LayerSeries {
  readonly label: string;
  readonly role: ParamRole;
  readonly norm: boolean;
  readonly kind: LayerMeasurement['kind'];
  readonly values: Partial<Record<CoordQuantity, number[][]>>;
}

export function assertWidths(widths: readonly number[], context: string): number[] {
  if (!Array.isArray(widths) || widths.length < 2 || widths.some((width) => !(Number.isFinite(width) && width > 0))) {
    throw new InvalidOptionError(
      `${context}: widths must be at least two positive numbers, got ${JSON.stringify(widths)}.`,
    );
  }
  const sorted = [...widths].sort((a, b) => a - b);
  if (new Set(sorted).size !== sorted.length) {
    throw new InvalidOptionError(`${context}: widths must differ, got ${JSON.stringify(widths)}.`);
  }
  return sorted;
}

/** µP-SGD under µP, one learning rate for every layer under SP. */
export function defaultOptimizer(learningRate: number): (specs: readonly ParamSpec[] | undefined) => tf.Optimizer {
  return (specs) => (specs ? muSgd(learningRate, [...specs]) : tf.train.sgd(learningRate));
}

const isCoordModel = (model: CoordModel | LayersModelLike): model is CoordModel =>
  'specs' in model && 'measuredLayers' in model;

export function nonNegativeInteger(value: number | undefined, fallback: number, what: string, context: string): number {
  const chosen = value ?? fallback;
  if (!(Number.isInteger(chosen) && chosen >= 0)) {
    throw new InvalidOptionError(`${context}: ${what} must be an integer >= 0, got ${String(value)}.`);
  }
  return chosen;
}

export function positiveInteger(value: number | undefined, fallback: number, what: string, context: string): number {
  const chosen = value ?? fallback;
  if (!(Number.isInteger(chosen) && chosen >= 1)) {
    throw new InvalidOptionError(`${context}: ${what} must be a positive integer, got ${String(value)}.`);
  }
  return chosen;
}

/**
 * Measures every layer of `settings.model` at every width and seed under one parameterization,
 * with the rule `observed()` returns for each model (a fresh one per model).
 */
/** One macrotask: lets a page, a worker's messages or a test runner through between two models. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export async function sweepWidths(
  settings: SweepSettings,
  parameterization: Parameterization,
  observed: () => ObservedRule,
  createOptimizer: (specs: readonly ParamSpec[] | undefined) => tf.Optimizer,
  onModel?: (width: number, seed: number) => void,
  trainRadius?: number,
): Promise<Map<string, LayerSeries>> {
  const widths = assertWidths(settings.widths, 'coordCheck');
  const steps = nonNegativeInteger(settings.steps, 3, 'steps', 'coordCheck');
  const seeds = positiveInteger(settings.seeds, 2, 'seeds', 'coordCheck');
  const data = settings.data;
  const batchFor = (seed: number) => (index: number) =>
    typeof data === 'function' ? data((seed - 1) * (steps + 1) + index) : data;
  const release = (batch: CoordBatch) => {
    if (typeof data === 'function') tf.dispose([batch.x, batch.y]);
  };
  const shapes = layerShapes(settings, widths);
  const series = new Map<string, LayerSeries>();
  try {
    for (const [widthIndex, width] of widths.entries()) {
      for (let seed = 1; seed <= seeds; seed++) {
        const context: BuildContext = { seed, parameterization };
        const built = settings.model(width, context);
        const model = isCoordModel(built)
          ? built
          : fromLayersModel(built, {
              base: shapes.base(),
              delta: shapes.delta(),
              parameterization,
              ...(settings.layers?.loss && { loss: settings.layers.loss }),
              ...(settings.layers?.readout && { readout: settings.layers.readout }),
            });
        try {
          const measured = measureModel(model, {
            observed: observed(),
            base: createOptimizer(parameterization === 'mup' ? model.specs : undefined),
            batch: batchFor(seed),
            release,
            steps,
            ...(trainRadius !== undefined && { trainRadius }),
          });
          record(series, measured, seed - 1, widthIndex, seeds, widths.length);
        } finally {
          model.dispose();
        }
        onModel?.(width, seed);
        await yieldToEventLoop();
      }
    }
  } finally {
    shapes.dispose();
  }
  return series;
}

/** The base-width and delta-width copies a tfjs-layers model's specs come from, built once and only if needed. */
function layerShapes(settings: SweepSettings, widths: readonly number[]) {
  const baseWidth = settings.baseWidth ?? (widths[0] as number);
  const built = new Map<number, LayersModelLike>();
  const at = (width: number) => {
    let model = built.get(width);
    if (model === undefined) {
      const candidate = settings.model(width, { seed: 1, parameterization: 'sp' });
      if (isCoordModel(candidate)) {
        candidate.dispose();
        throw new InvalidOptionError('coordCheck: model returned a CoordModel once and a tfjs-layers model once.');
      }
      model = candidate;
      built.set(width, model);
    }
    return model;
  };
  return {
    base: () => at(baseWidth),
    delta: () => at(2 * baseWidth),
    dispose: () => {
      for (const model of built.values()) model.dispose();
    },
  };
}

function record(
  series: Map<string, LayerSeries>,
  measured: readonly LayerMeasurement[],
  seedIndex: number,
  widthIndex: number,
  seeds: number,
  widths: number,
): void {
  for (const layer of measured) {
    let entry = series.get(layer.label);
    if (entry === undefined) {
      entry = { label: layer.label, role: layer.role, norm: layer.norm, kind: layer.kind, values: {} };
      series.set(layer.label, entry);
    }
    for (const [quantity, value] of Object.entries(layer.values) as Array<[CoordQuantity, number]>) {
      const table =
        entry.values[quantity] ?? Array.from({ length: seeds }, () => new Array<number>(widths).fill(Number.NaN));
      entry.values[quantity] = table;
      (table[seedIndex] as number[])[widthIndex] = value;
    }
  }
}
