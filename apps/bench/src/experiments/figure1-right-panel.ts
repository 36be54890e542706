import { parameterizationOf } from '../plot/parameterization.js';
import { byNameOrder, PRESET_ORDER } from '../plot/sweep-aggregate.js';
import type { SweepGrid, SweepGridInput } from '../sweep/grid.js';
import type { SweepRow } from '../sweep/results-log.js';
import { type Figure1Optima, SGD_SERIES } from './figure1-optima.js';

/** The folder of a Figure 1 run that holds the right panel's extra seeds, one sweep folder per grid inside. */
export const RIGHT_PANEL_DIR = 'right-panel';

/** One sweep of the right panel: `name` is its folder under RIGHT_PANEL_DIR. */
export interface RightPanelSweep {
  readonly name: string;
  readonly grid: SweepGridInput;
}

/** The grid value nearest (in log2) to 2^log2. */
function nearest(values: readonly number[], log2: number): number {
  return values.reduce((best, value) =>
    Math.abs(Math.log2(value) - log2) < Math.abs(Math.log2(best) - log2) ? value : best,
  );
}

/**
 * The paper's right panel with more seeds: at the widest width, every preset at its optimal η (the
 * grid η nearest its smoothed optimum in the main run) over every radius, and SGD in SP and in µP at
 * theirs, for the seeds `extraSeeds`. Presets that share an η share a sweep; SGD gets its own, as a
 * sweep's SGD cells run once per parameterization of its presets.
 */
export function rightPanelSweeps(
  grid: SweepGrid,
  optima: Figure1Optima,
  rule: string,
  extraSeeds: readonly number[],
): RightPanelSweep[] {
  const widest = Math.max(...grid.widths);
  const optimalLr = (name: string) => {
    const optimum = optima.series
      .find((entry) => entry.name === name)
      ?.optima.find((point) => point.widthMult === widest);
    return optimum === undefined ? undefined : nearest(grid.lrs, optimum.log2Lr);
  };
  const common = { ...grid, widths: [widest], seeds: [...extraSeeds] };
  const byLr = new Map<number, string[]>();
  for (const preset of grid.presets) {
    const lr = optimalLr(preset);
    if (lr !== undefined) byLr.set(lr, [...(byLr.get(lr) ?? []), preset]);
  }
  const sweeps: RightPanelSweep[] = [...byLr.entries()]
    .sort(([a], [b]) => a - b)
    .map(([lr, presets]) => ({ name: `${rule}-lr-${lr}`, grid: { ...common, rules: [rule], presets, lrs: [lr] } }));
  if (grid.rules.includes('sgd')) {
    for (const parameterization of ['sp', 'mup'] as const) {
      const lr = optimalLr(SGD_SERIES[parameterization]);
      const preset = grid.presets.find((name) => parameterizationOf(name) === parameterization);
      if (lr === undefined || preset === undefined) continue;
      sweeps.push({
        name: `sgd-${parameterization}-lr-${lr}`,
        grid: { ...common, rules: ['sgd'], presets: [preset], lrs: [lr] },
      });
    }
  }
  return sweeps;
}

/**
 * The grid to run a right-panel sweep with, given the grid its folder already holds (if any). A grid
 * that grew can move a preset's optimal η, so a folder of one η may hold presets that now belong to
 * another: they stay in its grid (their cells are done and nothing reruns), so that the folder grows
 * instead of being refused and no finished cell is lost. Which η each preset's line uses comes from
 * the sweeps themselves (rightPanelLrs), not from the widened grid.
 */
export function withPresetsAlreadyRun(panel: SweepGridInput, existing: SweepGridInput | undefined): SweepGridInput {
  const names = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);
  const before = names(existing?.presets);
  const presets = names(panel.presets);
  const missing = before.filter((preset) => !presets.includes(preset));
  if (missing.length === 0) return panel;
  return { ...panel, presets: [...presets, ...missing].sort(byNameOrder(PRESET_ORDER)) };
}

export interface RightPanelLine {
  /** A preset of the rule, or an SGD series name. */
  readonly name: string;
  readonly lr: number;
  /** Mean test accuracy ± sample std over the seeds, per radius (0 for SGD). */
  readonly points: Array<{ rho: number; mean: number; std: number; seeds: number }>;
}

const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const sampleStd = (values: readonly number[]) =>
  values.length < 2
    ? 0
    : Math.sqrt(values.reduce((sum, value) => sum + (value - mean(values)) ** 2, 0) / (values.length - 1));

/**
 * The right panel's numbers from every row (main run and extra seeds): at `widthMult`, each preset at
 * the η of its right-panel sweep (or, without one, its grid-nearest optimum), accuracy against ρ.
 */
export function rightPanelLines(
  rows: readonly SweepRow[],
  widthMult: number,
  optimalLrs: ReadonlyMap<string, number>,
  rule: string,
): RightPanelLine[] {
  const kept = rows.filter((row) => row.status !== 'failed' && row.config.widthMult === widthMult);
  const accuracy = (row: SweepRow) =>
    row.status === 'diverged' || typeof row.finalTestAccuracy !== 'number' ? 0 : row.finalTestAccuracy;
  const names = [...optimalLrs.keys()].sort(byNameOrder([SGD_SERIES.sp, SGD_SERIES.mup, ...PRESET_ORDER]));
  return names.map((name) => {
    const lr = optimalLrs.get(name) as number;
    const sgd = name === SGD_SERIES.sp ? 'sp' : name === SGD_SERIES.mup ? 'mup' : undefined;
    const matching = kept.filter((row) =>
      sgd !== undefined
        ? row.config.rule === 'sgd' && parameterizationOf(row.config.preset) === sgd && row.config.lr === lr
        : row.config.rule === rule && row.config.preset === name && row.config.lr === lr,
    );
    const rhos = [...new Set(matching.map((row) => row.config.rho))].sort((a, b) => a - b);
    return {
      name,
      lr,
      points: rhos.map((rho) => {
        // One row per seed: a seed run twice (a resumed folder) counts once, its last row.
        const bySeed = new Map<number, number>();
        for (const row of matching) if (row.config.rho === rho) bySeed.set(row.seed ?? row.config.seed, accuracy(row));
        const values = [...bySeed.values()];
        return { rho, mean: mean(values), std: sampleStd(values), seeds: values.length };
      }),
    };
  });
}

/** The right panel as a Markdown table: one row per preset (and SGD), one column per radius. */
export function rightPanelTable(lines: readonly RightPanelLine[]): string {
  const rhos = [...new Set(lines.flatMap((line) => line.points.map((point) => point.rho)))]
    .filter((rho) => rho > 0)
    .sort((a, b) => a - b);
  const percent = (value: number) => (100 * value).toFixed(2);
  const cell = (point: RightPanelLine['points'][number] | undefined) =>
    point === undefined ? '–' : `${percent(point.mean)} ± ${percent(point.std)} (${point.seeds})`;
  return [
    `| | η | ${rhos.map((rho) => `ρ = ${rho}`).join(' | ')} | SGD (ρ = 0) |`,
    `|---|---:|${rhos.map(() => '---').join('|')}|---|`,
    ...lines.map((line) => {
      const at = (rho: number) => line.points.find((point) => point.rho === rho);
      return `| ${line.name} | ${line.lr} | ${rhos.map((rho) => cell(at(rho))).join(' | ')} | ${cell(at(0))} |`;
    }),
  ].join('\n');
}

/** Which η each preset (and SGD series) of the right panel runs at, from its sweeps. */
export function rightPanelLrs(sweeps: readonly RightPanelSweep[]): Map<string, number> {
  const lrs = new Map<string, number>();
  for (const { grid } of sweeps) {
    const lr = (grid.lrs as number[])[0] as number;
    const presets = grid.presets as string[];
    if ((grid.rules as string[])[0] === 'sgd') {
      lrs.set(SGD_SERIES[parameterizationOf(presets[0] as string)], lr);
    } else {
      for (const preset of presets) lrs.set(preset, lr);
    }
  }
  return lrs;
}
