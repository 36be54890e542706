import { parameterizationOf } from '../plot/parameterization.js';
import { aggregateSweep, type GridPoint } from '../plot/sweep-aggregate.js';
import type { SweepRow } from '../sweep/results-log.js';
import { type Figure1Optima, SGD_SERIES } from './figure1-optima.js';
import { rightPanelLines, rightPanelTable } from './figure1-right-panel.js';
import { optimaTable, transferVerdict } from './figure1-tables.js';
import { INTERVAL_LEVEL, SMOOTHING_SIGMA_STEPS } from './optimum-statistics.js';

const percent = (value: number) => (100 * value).toFixed(2);
const nearest = (values: readonly number[], log2: number) =>
  values.reduce((best, value) => (Math.abs(Math.log2(value) - log2) < Math.abs(Math.log2(best) - log2) ? value : best));

/**
 * Test accuracy (mean ± std over seeds, and train accuracy) of the grid cell nearest each series'
 * smoothed optimum, per width: what the optima are worth.
 */
export function accuracyTable(optima: Figure1Optima, rows: readonly SweepRow[], rule: string): string {
  const points = aggregateSweep(rows).points;
  const widths = [...new Set(optima.series.flatMap((entry) => entry.optima.map((optimum) => optimum.widthMult)))].sort(
    (a, b) => a - b,
  );
  const lines = [
    `| | ${widths.map((width) => `×${width}`).join(' | ')} |`,
    `|---|${widths.map(() => '---:').join('|')}|`,
  ];
  for (const entry of optima.series) {
    const sgd = entry.name === SGD_SERIES.sp ? 'sp' : entry.name === SGD_SERIES.mup ? 'mup' : undefined;
    const cells = widths.map((width) => {
      const optimum = entry.optima.find((point) => point.widthMult === width);
      const candidates = points.filter(
        (point: GridPoint) =>
          point.widthMult === width &&
          !point.fromSgd &&
          (sgd === undefined
            ? point.rule === rule && point.preset === entry.name && point.rho > 0
            : point.rule === 'sgd' && parameterizationOf(point.preset) === sgd),
      );
      if (optimum === undefined || candidates.length === 0) return '–';
      const lr = nearest(
        candidates.map((point) => point.lr),
        optimum.log2Lr,
      );
      const rho =
        optimum.log2Rho === null
          ? 0
          : nearest(
              candidates.map((point) => point.rho),
              optimum.log2Rho,
            );
      const cell = candidates.find((point) => point.lr === lr && point.rho === rho);
      if (cell === undefined) return '–';
      const train = cell.meanTrainAccuracy === null ? '' : ` (${percent(cell.meanTrainAccuracy)})`;
      return `${percent(cell.meanAccuracy)} ± ${percent(cell.stdAccuracy)}${train}`;
    });
    lines.push(`| ${entry.name} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/**
 * The η of each series' right-panel line at `widthMult`: among the η values its rows have there, those
 * with the most seeds (the right panel's extra seeds, when they ran), and of those the one nearest the
 * smoothed optimum.
 */
export function panelLrs(optima: Figure1Optima, rows: readonly SweepRow[], widthMult: number): Map<string, number> {
  const atWidth = rows.filter((row) => row.status !== 'failed' && row.config.widthMult === widthMult);
  return new Map(
    optima.series.flatMap((entry) => {
      const optimum = entry.optima.find((point) => point.widthMult === widthMult);
      const sgd = entry.name === SGD_SERIES.sp ? 'sp' : entry.name === SGD_SERIES.mup ? 'mup' : undefined;
      const own = atWidth.filter((row) =>
        sgd === undefined
          ? row.config.preset === entry.name && row.config.rule !== 'sgd'
          : row.config.rule === 'sgd' && parameterizationOf(row.config.preset) === sgd,
      );
      if (optimum === undefined || own.length === 0) return [];
      const seedsAt = (lr: number) => new Set(own.filter((row) => row.config.lr === lr).map((row) => row.seed)).size;
      const values = [...new Set(own.map((row) => row.config.lr))];
      const most = Math.max(...values.map(seedsAt));
      return [
        [
          entry.name,
          nearest(
            values.filter((lr) => seedsAt(lr) === most),
            optimum.log2Lr,
          ),
        ] as const,
      ];
    }),
  );
}

/**
 * What `bench figure1` prints after its sweeps: the optimal ρ and η per preset and width with their
 * intervals and drifts, the transfer verdict, the accuracy at the optima, and the right panel at the
 * widest width (each preset at its optimal η, `lrs`; by default the grid η nearest its smoothed optimum).
 */
export function figure1Printout(
  optima: Figure1Optima,
  rows: readonly SweepRow[],
  widest: number,
  rule: string,
  fixedLrs?: ReadonlyMap<string, number>,
): string {
  const level = `${Math.round(100 * INTERVAL_LEVEL)}%`;
  const mainSeeds = new Set(optima.seeds);
  const mainRows = rows.filter((row) => mainSeeds.has(row.seed ?? row.config.seed));
  const lrs = fixedLrs ?? panelLrs(optima, rows, widest);
  return [
    `Optima per preset and width: the maximum of the seed-mean test accuracy over log2 η × log2 ρ, smoothed with a ` +
      `Gaussian of ${SMOOTHING_SIGMA_STEPS} grid step, located between grid points; [${level} interval] from ` +
      `resampling the ${optima.seeds.length} seeds; "(edge)": the maximum lies on the grid's edge. ` +
      'The last column is the least-squares drift of log2 of the optimum per doubling of width (0: it transfers).',
    '',
    'ρ*:',
    '',
    optimaTable(optima.series, 'rho'),
    '',
    'η* (SGD SP and SGD µP: the SGD runs, every preset’s ρ = 0):',
    '',
    optimaTable(optima.series, 'lr'),
    '',
    'Transfer of ρ*:',
    '',
    ...transferVerdict(optima),
    '',
    'Test accuracy % ± std over seeds (train accuracy %) of the grid cell nearest each optimum:',
    '',
    accuracyTable(optima, mainRows, rule),
    '',
    `The right panel at ×${widest}: test accuracy % ± std (seeds) against ρ, each preset at its optimal η:`,
    '',
    rightPanelTable(rightPanelLines(rows, widest, lrs, rule)),
    '',
  ].join('\n');
}
