import {
  InvalidOptionError,
  type ParamRole,
  type PerturbationRule,
  type PerturbationScaling,
  type PresetName,
  parsePreset,
} from '@mup2/core';
import { compareGroups, layerGroup } from './layer-group.js';
import { COORD_QUANTITIES, type CoordQuantity } from './measure-model.js';
import { observeRule } from './observed-rule.js';
import { fitSlope, type SlopeFit, type SlopeVerdict, slopeVerdict } from './slope-fit.js';
import {
  assertWidths,
  defaultOptimizer,
  type LayerSeries,
  nonNegativeInteger,
  positiveInteger,
  type SweepSettings,
  sweepWidths,
} from './width-sweep.js';

export interface CoordCheckOptions extends SweepSettings {
  /** The rule under each scaling, e.g. `(scaling) => sam({ rho: 0.1, scaling })`. */
  readonly rule: (scaling: PerturbationScaling) => PerturbationRule;
  /** The parameterizations to compare (init + learning rates + perturbation scaling). Default ['mup-global', 'mup2']. */
  readonly presets?: readonly PresetName[];
  /** |slope| at most this is 'flat'. Default 0.3 (a wrong µP² multiplier is off by 0.5 or more). */
  readonly tolerance?: number;
  /** An exponent whose halves disagree by more than this, or whose seeds' standard error exceeds half of it, has not settled. Default 0.3. */
  readonly settleTolerance?: number;
  /** Called after each model: models done, models in all, and which. */
  readonly onProgress?: (done: number, total: number, label: string) => void;
}

/** A quantity of one layer at one width: the mean over seeds. */
export interface CoordRow {
  readonly preset: string;
  readonly width: number;
  readonly layer: string;
  /** 'input W', 'hidden W', 'output W', 'norm gain', 'norm offset', 'bias', … (see `layerGroup`). */
  readonly group: string;
  readonly role: ParamRole;
  readonly quantity: CoordQuantity;
  readonly value: number;
}

/** The width exponent of one quantity of one layer under one preset. */
export interface LayerSlope extends SlopeFit {
  readonly preset: string;
  readonly layer: string;
  readonly group: string;
  readonly role: ParamRole;
  readonly quantity: CoordQuantity;
  readonly verdict: SlopeVerdict;
  /**
   * The quantity is round-off at every width (below 1e-9 of the largest layer's): nothing reaches
   * this parameter (an attention key's bias gets no gradient, softmax ignores a shift), so its slope
   * means nothing. Such layers are left out of the group summaries.
   */
  readonly negligible: boolean;
}

/** The slopes of a group of layers (e.g. every hidden conv): their mean, extremes and count. */
export interface GroupSlope {
  readonly preset: string;
  readonly group: string;
  readonly quantity: CoordQuantity;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
  readonly layers: number;
  /** Whether every layer's exponent settled. */
  readonly settled: boolean;
  /** The verdict of the slope farthest from 0. */
  readonly verdict: SlopeVerdict;
}

export interface CoordCheckResult {
  /** The rule's name. */
  readonly rule: string;
  readonly presets: readonly string[];
  readonly widths: readonly number[];
  readonly steps: number;
  readonly seeds: number;
  readonly tolerance: number;
  readonly rows: CoordRow[];
  readonly slopes: LayerSlope[];
  readonly groups: GroupSlope[];
}

const DEFAULT_PRESETS: readonly PresetName[] = ['mup-global', 'mup2'];

/**
 * The perturbation coordinate check of µP² for any model: for each preset, width and seed,
 * build the model, take `steps` SAM steps with the preset's initialisation, learning rates and
 * perturbation scaling, and measure every layer at the next batch (see `CoordQuantity`: the
 * effective perturbation ε·x, µP's update effect Δw·x and activation w·x, and the normaliser
 * term). Then fit each quantity's log-log slope against width. It yields to the event loop
 * between two models, so a page or a worker stays responsive. Under a correct µP² scaling
 * every layer's perturbation slope is near 0; under 'mup-global' only the readout's is.
 */
export async function coordCheck(options: CoordCheckOptions): Promise<CoordCheckResult> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('coordCheck: expected an options object { model, widths, rule, data, … }.');
  }
  if (typeof options.model !== 'function' || typeof options.rule !== 'function') {
    throw new InvalidOptionError(
      'coordCheck: `model` must be a function (width, { seed, parameterization }) => model and `rule` a function (scaling) => rule.',
    );
  }
  const widths = assertWidths(options.widths, 'coordCheck');
  const presets = (options.presets ?? DEFAULT_PRESETS).map((name) => parsePreset(name));
  if (presets.length === 0) throw new InvalidOptionError('coordCheck: presets must name at least one preset.');
  const tolerance = options.tolerance ?? 0.3;
  const settleTolerance = options.settleTolerance ?? 0.3;
  const steps = nonNegativeInteger(options.steps, 3, 'steps', 'coordCheck');
  const seeds = positiveInteger(options.seeds, 2, 'seeds', 'coordCheck');
  const learningRate = options.learningRate ?? 0.1;
  const createOptimizer = options.optimizer ?? defaultOptimizer(learningRate);
  const ruleName = options.rule('naive').name;
  const total = presets.length * widths.length * seeds;
  let done = 0;
  const rows: CoordRow[] = [];
  const slopes: LayerSlope[] = [];
  for (const preset of presets) {
    const series = await sweepWidths(
      { ...options, widths },
      preset.parameterization,
      () => observeRule(options.rule(preset.scaling)),
      createOptimizer,
      (width, seed) => options.onProgress?.(++done, total, `${preset.name} width ${width} seed ${seed}`),
    );
    const fitted = fitSeries(preset.name, widths, series.values(), tolerance, settleTolerance);
    rows.push(...fitted.rows);
    slopes.push(...fitted.slopes);
  }
  return {
    rule: ruleName,
    presets: presets.map((preset) => preset.name),
    widths,
    steps,
    seeds,
    tolerance,
    rows,
    slopes,
    groups: groupSlopes(slopes, tolerance),
  };
}

/** Rows (means over seeds) and slopes of every layer and quantity of one sweep. */
export function fitSeries(
  preset: string,
  widths: readonly number[],
  series: Iterable<LayerSeries>,
  tolerance: number,
  settleTolerance: number,
): { rows: CoordRow[]; slopes: LayerSlope[] } {
  const rows: CoordRow[] = [];
  const slopes: LayerSlope[] = [];
  const layers = [...series];
  const meanAt = (values: readonly (readonly number[])[], index: number) =>
    values.reduce((sum, seed) => sum + (seed[index] as number), 0) / values.length;
  const largest = new Map<CoordQuantity, number[]>(
    COORD_QUANTITIES.map((quantity) => [
      quantity,
      widths.map((_, index) =>
        Math.max(0, ...layers.map((layer) => (layer.values[quantity] ? meanAt(layer.values[quantity], index) : 0))),
      ),
    ]),
  );
  for (const layer of layers) {
    const group = layerGroup(layer);
    for (const quantity of COORD_QUANTITIES) {
      const values = layer.values[quantity];
      if (values === undefined) continue;
      widths.forEach((width, index) => {
        rows.push({
          preset,
          width,
          layer: layer.label,
          group,
          role: layer.role,
          quantity,
          value: meanAt(values, index),
        });
      });
      const negligible = widths.every(
        (_, index) => meanAt(values, index) <= 1e-9 * ((largest.get(quantity) ?? [])[index] as number),
      );
      const fit = fitSlope(widths, values, settleTolerance);
      slopes.push({
        preset,
        layer: layer.label,
        group,
        role: layer.role,
        quantity,
        ...fit,
        ...(negligible && {
          settled: false,
          unsettledBecause: 'it is round-off at every width (below 1e-9 of the largest layer’s): nothing reaches it',
        }),
        verdict: slopeVerdict(fit.slope, tolerance),
        negligible,
      });
    }
  }
  return { rows, slopes };
}

/** The slopes of each group of layers, per preset and quantity. */
export function groupSlopes(slopes: readonly LayerSlope[], tolerance: number): GroupSlope[] {
  const groups = new Map<string, LayerSlope[]>();
  for (const slope of slopes) {
    if (slope.negligible) continue;
    const key = JSON.stringify([slope.preset, slope.quantity, slope.group]);
    groups.set(key, [...(groups.get(key) ?? []), slope]);
  }
  return [...groups.values()]
    .map((members) => {
      const first = members[0] as LayerSlope;
      const values = members.map((member) => member.slope);
      const extreme = values.reduce((worst, value) => (Math.abs(value) > Math.abs(worst) ? value : worst), 0);
      return {
        preset: first.preset,
        group: first.group,
        quantity: first.quantity,
        mean: values.reduce((sum, value) => sum + value, 0) / values.length,
        min: Math.min(...values),
        max: Math.max(...values),
        layers: members.length,
        settled: members.every((member) => member.settled),
        verdict: slopeVerdict(extreme, tolerance),
      };
    })
    .sort((a, b) => compareGroups(a.group, b.group));
}
