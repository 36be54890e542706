import type { CellConfig } from '../sweep/grid.js';
import type { SweepRow } from '../sweep/results-log.js';
import { parameterizationOf } from './parameterization.js';

/** Test accuracy below this is drawn grey as unstable (the paper's Figure 1). */
export const UNSTABLE_ACCURACY = 0.3;
/** Cells within this much accuracy (one percentage point, absolute) of the optimum are outlined. */
export const NEAR_OPTIMUM_GAP = 0.01;

/** The config members that are swept over inside one experiment; every other member names the experiment. */
const SWEPT = new Set(['rule', 'preset', 'widthMult', 'lr', 'rho', 'seed']);

/** Mean over seeds of one (experiment, rule, preset, width, η, ρ) cell of the grid. */
export interface GridPoint {
  readonly experiment: string;
  readonly rule: string;
  readonly preset: string;
  readonly widthMult: number;
  readonly lr: number;
  readonly rho: number;
  /** Mean final test accuracy over the seeds that finished (diverged ones count as their accuracy, 0). */
  readonly meanAccuracy: number;
  /** Sample standard deviation (n − 1) over those seeds; 0 for a single seed. */
  readonly stdAccuracy: number;
  /**
   * Mean accuracy on the training split at the final weights over the seeds that recorded it
   * (null if none did: rows of older sweeps, or only diverged runs).
   */
  readonly meanTrainAccuracy: number | null;
  /**
   * A ρ = 0 point of a perturbation rule made of the sweep's SGD runs in the same parameterization:
   * SamOptimizer at ρ = 0 takes exactly the base optimizer's step, so they are the same runs.
   */
  readonly fromSgd: boolean;
  /** Seeds that finished training (ok or diverged). */
  readonly seeds: number;
  readonly diverged: number;
  readonly unstable: boolean;
  /** Within NEAR_OPTIMUM_GAP of the best mean of its (experiment, rule, preset, width) panel. */
  readonly nearOptimum: boolean;
  /** The best mean of its panel (the first in (η, ρ) order on a tie). */
  readonly optimum: boolean;
}

export interface SweepAggregate {
  /** Sorted by experiment, rule, preset, width, η, ρ. */
  readonly points: GridPoint[];
  /** The optimal point of each (experiment, rule, preset, width) panel, in the same order. */
  readonly optima: GridPoint[];
  /** Experiment labels (model, dataset and the fixed settings), in first-seen order. */
  readonly experiments: string[];
  /** Rows whose cell failed to run: they enter no mean. */
  readonly failed: SweepRow[];
}

/** 'mlp on mnist, 10 epochs, batch 128': the config members that are not swept within a figure. */
export function experimentLabel(config: CellConfig): string {
  const extras = Object.entries(config)
    .filter(([key, value]) => !SWEPT.has(key) && !['model', 'dataset', 'epochs'].includes(key) && value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key} ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`);
  return [
    `${config.model} on ${config.dataset}, ${config.epochs} epoch${config.epochs === 1 ? '' : 's'}`,
    ...extras,
  ].join(', ');
}

function accuracyOf(row: SweepRow): number {
  const accuracy = row.finalTestAccuracy;
  return typeof accuracy === 'number' && Number.isFinite(accuracy) ? accuracy : 0;
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

function sampleStd(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const center = mean(values);
  return Math.sqrt(values.reduce((sum, value) => sum + (value - center) ** 2, 0) / (values.length - 1));
}

const panelKey = (point: Pick<GridPoint, 'experiment' | 'rule' | 'preset' | 'widthMult'>) =>
  JSON.stringify([point.experiment, point.rule, point.preset, point.widthMult]);

/**
 * The SGD rows again as ρ = 0 rows of every perturbation rule and preset of the sweep with the
 * same parameterization (a preset's perturbation scaling means nothing at ρ = 0), for the
 * (experiment, rule, preset, width, η) a rule's own rows do not already cover at ρ = 0.
 */
function sgdAsRhoZero(rows: readonly SweepRow[]): SweepRow[] {
  const perturbed = rows.filter((row) => row.config.rule !== 'sgd' && row.status !== 'failed');
  const sgd = rows.filter((row) => row.config.rule === 'sgd' && row.status !== 'failed');
  if (perturbed.length === 0 || sgd.length === 0) return [];
  const panels = new Map<string, Pick<CellConfig, 'rule' | 'preset'>>();
  const ownZero = new Set<string>();
  for (const row of perturbed) {
    const experiment = experimentLabel(row.config);
    panels.set(JSON.stringify([experiment, row.config.rule, row.config.preset]), {
      rule: row.config.rule,
      preset: row.config.preset,
    });
    if (row.config.rho === 0) {
      const { rule, preset, widthMult, lr } = row.config;
      ownZero.add(JSON.stringify([experiment, rule, preset, widthMult, lr]));
    }
  }
  const copies: SweepRow[] = [];
  for (const row of sgd) {
    const experiment = experimentLabel(row.config);
    for (const [key, { rule, preset }] of panels) {
      if (JSON.parse(key)[0] !== experiment) continue;
      if (parameterizationOf(preset) !== parameterizationOf(row.config.preset)) continue;
      if (ownZero.has(JSON.stringify([experiment, rule, preset, row.config.widthMult, row.config.lr]))) continue;
      copies.push({ ...row, config: { ...row.config, rule, preset, rho: 0 } });
    }
  }
  return copies;
}

/**
 * Means over seeds per (experiment, rule, preset, width, η, ρ), the optimum of
 * each (experiment, rule, preset, width) panel and the points within one
 * percentage point of it. Failed cells are set aside; diverged ones count with
 * their accuracy (0), as a run that diverges is a real outcome of that (η, ρ).
 * A cell that appears twice for one seed (a sweep rerun into the same folder)
 * counts once, its last row winning. When the sweep ran rule 'sgd', its runs are
 * also each perturbation rule's ρ = 0 points (marked `fromSgd`), so a panel's
 * optimum can be "no perturbation".
 */
export function aggregateSweep(rows: readonly SweepRow[]): SweepAggregate {
  const copies = sgdAsRhoZero(rows);
  const copied = new Set(copies);
  const failed: SweepRow[] = [];
  const experiments: string[] = [];
  const groups = new Map<
    string,
    {
      key: Omit<
        GridPoint,
        | 'meanAccuracy'
        | 'stdAccuracy'
        | 'meanTrainAccuracy'
        | 'seeds'
        | 'diverged'
        | 'unstable'
        | 'nearOptimum'
        | 'optimum'
      >;
      bySeed: Map<number, SweepRow>;
    }
  >();
  for (const row of [...rows, ...copies]) {
    if (row.status === 'failed') {
      failed.push(row);
      continue;
    }
    const experiment = experimentLabel(row.config);
    if (!experiments.includes(experiment)) experiments.push(experiment);
    const { rule, preset, widthMult, lr, rho } = row.config;
    const id = JSON.stringify([experiment, rule, preset, widthMult, lr, rho]);
    let group = groups.get(id);
    if (!group) {
      group = { key: { experiment, rule, preset, widthMult, lr, rho, fromSgd: copied.has(row) }, bySeed: new Map() };
      groups.set(id, group);
    }
    group.bySeed.set(row.seed ?? row.config.seed, row);
  }

  const means = [...groups.values()].map(({ key, bySeed }) => {
    const seedRows = [...bySeed.values()];
    const accuracies = seedRows.map(accuracyOf);
    const meanAccuracy = mean(accuracies);
    const trainAccuracies = seedRows
      .map((row) => row.finalTrainAccuracy)
      .filter((value): value is number => typeof value === 'number' && Number.isFinite(value));
    return {
      ...key,
      meanAccuracy,
      stdAccuracy: sampleStd(accuracies),
      meanTrainAccuracy: trainAccuracies.length > 0 ? mean(trainAccuracies) : null,
      seeds: seedRows.length,
      diverged: seedRows.filter((row) => row.status === 'diverged').length,
      unstable: meanAccuracy < UNSTABLE_ACCURACY,
    };
  });
  const order = (value: string) => experiments.indexOf(value);
  const byRule = byNameOrder(RULE_ORDER);
  const byPreset = byNameOrder(PRESET_ORDER);
  means.sort(
    (a, b) =>
      order(a.experiment) - order(b.experiment) ||
      byRule(a.rule, b.rule) ||
      byPreset(a.preset, b.preset) ||
      a.widthMult - b.widthMult ||
      a.lr - b.lr ||
      a.rho - b.rho,
  );

  const best = new Map<string, (typeof means)[number]>();
  for (const point of means) {
    const current = best.get(panelKey(point));
    if (!current || point.meanAccuracy > current.meanAccuracy) best.set(panelKey(point), point);
  }
  const points: GridPoint[] = means.map((point) => {
    const optimum = best.get(panelKey(point))!;
    return {
      ...point,
      // The tolerance keeps a point exactly one point below the optimum inside despite float rounding.
      nearOptimum: point.meanAccuracy >= optimum.meanAccuracy - NEAR_OPTIMUM_GAP - 1e-12,
      optimum: point === optimum,
    };
  });
  return { points, optima: points.filter((point) => point.optimum), experiments, failed };
}

/** Presets in the order of the paper's Figure 1. Unknown names sort after these, alphabetically. */
export const PRESET_ORDER = ['sp-naive', 'sp-lp', 'mup-naive', 'mup-global', 'mup2'];
// 'sgd' first; every perturbation rule after it, by name (no rule is known here by name).
export const RULE_ORDER = ['sgd'];

/** A comparator that puts the names of `order` first, in that order. */
export function byNameOrder(order: readonly string[]): (a: string, b: string) => number {
  const rank = (name: string) => {
    const index = order.indexOf(name);
    return index === -1 ? order.length : index;
  };
  return (a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}
