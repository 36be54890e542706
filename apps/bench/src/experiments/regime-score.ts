import { aggregateSweep, type GridPoint } from '../plot/sweep-aggregate.js';
import type { SweepRow } from '../sweep/results-log.js';

/** The best SAM and SGD cells of a regime pilot at one width, and the pilot's score (docs/bench.md, "Choosing the regime"). */
export interface RegimeScore {
  readonly bestSam: GridPoint;
  readonly bestSgd: GridPoint;
  /** (A_SAM − A_SGD) / sqrt((s_SAM² + s_SGD²) / 2): SAM's gain in units of the seeds' spread. */
  readonly score: number;
  readonly gain: number;
  readonly pooledStd: number;
}

const best = (points: readonly GridPoint[]) =>
  points.reduce<GridPoint | undefined>(
    (top, point) => (top === undefined || point.meanAccuracy > top.meanAccuracy ? point : top),
    undefined,
  );

/**
 * The rule that chose Figure 1's protocol: the best seed-mean final test accuracy over the SAM
 * cells (ρ > 0) against the best over the SGD cells, divided by the pooled sample standard
 * deviation over seeds of those two cells. Returns undefined until both kinds have finished.
 */
export function regimeScore(rows: readonly SweepRow[], rule = 'sam'): RegimeScore | undefined {
  const { points } = aggregateSweep(rows);
  const bestSam = best(points.filter((point) => point.rule === rule && !point.fromSgd && point.rho > 0));
  const bestSgd = best(points.filter((point) => point.rule === 'sgd'));
  if (bestSam === undefined || bestSgd === undefined) return undefined;
  const gain = bestSam.meanAccuracy - bestSgd.meanAccuracy;
  const pooledStd = Math.sqrt((bestSam.stdAccuracy ** 2 + bestSgd.stdAccuracy ** 2) / 2);
  return { bestSam, bestSgd, gain, pooledStd, score: gain / pooledStd };
}
