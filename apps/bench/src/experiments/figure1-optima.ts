import { parameterizationOf } from '../plot/parameterization.js';
import { byNameOrder, PRESET_ORDER } from '../plot/sweep-aggregate.js';
import type { SweepRow } from '../sweep/results-log.js';
import {
  type Drift,
  driftDifference,
  optimumStatistics,
  type Panel,
  type SeriesStatistics,
  type StatisticsOptions,
} from './optimum-statistics.js';

/** The SGD series' names: SGD in each parameterization (also every preset's ρ = 0). */
export const SGD_SERIES = { sp: 'SGD SP', mup: 'SGD µP' } as const;

export interface Figure1Optima {
  /** SGD in SP and µP first, then the rule's presets in the paper's order. */
  readonly series: SeriesStatistics[];
  /** mup2's drift minus each other preset's, paired over the bootstrap, for η* and ρ*. */
  readonly differences: Array<{ preset: string; lr: Drift | undefined; rho: Drift | undefined }>;
  readonly seeds: number[];
}

const accuracyOf = (row: SweepRow) =>
  row.status === 'diverged'
    ? 0
    : typeof row.finalTestAccuracy === 'number' && Number.isFinite(row.finalTestAccuracy)
      ? row.finalTestAccuracy
      : 0;

/** The panels (one per width) of the rows given: cells over their own η and ρ values. */
function panelsOf(rows: readonly SweepRow[]): Panel[] {
  const widths = [...new Set(rows.map((row) => row.config.widthMult))].sort((a, b) => a - b);
  return widths.map((widthMult) => {
    const atWidth = rows.filter((row) => row.config.widthMult === widthMult);
    const lrs = [...new Set(atWidth.map((row) => row.config.lr))].sort((a, b) => a - b);
    const rhos = [...new Set(atWidth.map((row) => row.config.rho))].sort((a, b) => a - b);
    const cells = lrs.map((lr) =>
      rhos.map((rho) => {
        const seeds = new Map<number, number>();
        for (const row of atWidth) {
          if (row.config.lr === lr && row.config.rho === rho) seeds.set(row.seed ?? row.config.seed, accuracyOf(row));
        }
        return seeds.size === 0 ? undefined : seeds;
      }),
    );
    return { widthMult, lrs, rhos, cells };
  });
}

/**
 * Figure 1's optima with uncertainty from a sweep's rows (failed cells left out, diverged ones at
 * accuracy 0): per preset of `rule` the smoothed optimum over η × ρ (ρ > 0) at each width, SGD in
 * SP and µP over η, their bootstrap intervals and drifts per doubling of width, and how µP²'s drift
 * differs from every other preset's. `seeds` restricts the rows (e.g. the seeds every cell has).
 */
export function figure1Optima(
  rows: readonly SweepRow[],
  rule: string,
  options: StatisticsOptions & { seeds?: readonly number[] } = {},
): Figure1Optima {
  const kept = rows.filter(
    (row) =>
      row.status !== 'failed' && (options.seeds === undefined || options.seeds.includes(row.seed ?? row.config.seed)),
  );
  const sgd = kept.filter((row) => row.config.rule === 'sgd');
  const perturbed = kept.filter((row) => row.config.rule === rule && row.config.rho > 0);
  const presets = [...new Set(perturbed.map((row) => row.config.preset))].sort(byNameOrder(PRESET_ORDER));
  const input = [
    ...(['sp', 'mup'] as const).flatMap((parameterization) => {
      const runs = sgd.filter((row) => parameterizationOf(row.config.preset) === parameterization);
      return runs.length === 0 ? [] : [{ name: SGD_SERIES[parameterization], panels: panelsOf(runs) }];
    }),
    ...presets.map((preset) => ({
      name: preset,
      panels: panelsOf(perturbed.filter((row) => row.config.preset === preset)),
    })),
  ];
  const result = optimumStatistics(input, options);
  const differences = presets.includes('mup2')
    ? presets
        .filter((preset) => preset !== 'mup2')
        .map((preset) => ({
          preset,
          lr: driftDifference(result, 'mup2', preset, 'lr'),
          rho: driftDifference(result, 'mup2', preset, 'rho'),
        }))
    : [];
  const seeds = [...new Set(kept.map((row) => row.seed ?? row.config.seed))].sort((a, b) => a - b);
  return { series: result.statistics, differences, seeds };
}
