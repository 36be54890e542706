import { mixSeeds, seededRandom } from '@mup2/model-zoo';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import { linearRegression, standardDeviation } from 'simple-statistics';

/**
 * How Figure 1's optima are read (docs/bench.md, "Optima with uncertainty"), fixed before the
 * width sweep ran: the seed-mean accuracy surface over log2 η × log2 ρ is smoothed with a Gaussian
 * of half a grid step (σ = 0.5 in log2 units on a grid in factors of 2), its maximum located to a
 * fraction of a step, and the seeds are resampled to give 90% intervals. Half a step, not one: the
 * smoothing is renormalised at the grid's edges, and with σ of a whole step that renormalisation
 * moves an optimum lying one step inside a 5-point grid onto its edge (a test shows it).
 */
export const SMOOTHING_SIGMA_STEPS = 0.5;
export const BOOTSTRAP_RESAMPLES = 2000;
export const INTERVAL_LEVEL = 0.9;

/** Final test accuracies of one grid cell, by seed (a diverged run counts as its accuracy, 0). */
export type SeedAccuracies = ReadonlyMap<number, number>;

/**
 * One panel: a preset (or an SGD parameterization) at one width. `cells[i][j]` holds the cell at
 * `lrs[i]`, `rhos[j]`; undefined where no seed has finished. An SGD panel has one radius, 0.
 */
export interface Panel {
  readonly widthMult: number;
  readonly lrs: readonly number[];
  readonly rhos: readonly number[];
  readonly cells: ReadonlyArray<ReadonlyArray<SeedAccuracies | undefined>>;
}

/** An optimum located on a smoothed surface, in log2 units; `*Edge` when the grid's maximum is on that axis's first or last value. */
export interface LocatedOptimum {
  readonly log2Lr: number;
  readonly log2Rho: number | null;
  readonly lrEdge: boolean;
  readonly rhoEdge: boolean;
  /** The smoothed accuracy at the grid point of the maximum. */
  readonly smoothedAccuracy: number;
}

export interface Interval {
  readonly low: number;
  readonly high: number;
}

export interface PanelOptimum extends LocatedOptimum {
  readonly widthMult: number;
  readonly log2LrInterval: Interval;
  readonly log2RhoInterval: Interval | null;
  /** Seeds that entered the point estimate. */
  readonly seeds: number;
}

export interface Drift {
  /** Least-squares slope of log2 of the optimum against log2 width: change per doubling of width. */
  readonly perDoubling: number;
  readonly interval: Interval;
}

export interface SeriesStatistics {
  readonly name: string;
  readonly optima: PanelOptimum[];
  readonly lrDrift: Drift | null;
  readonly rhoDrift: Drift | null;
}

/**
 * Gaussian smoothing over grid indices (σ in steps), renormalised over the cells present, so an edge
 * or a missing cell does not pull the surface down.
 */
export function gaussianSmooth(
  values: ReadonlyArray<ReadonlyArray<number | undefined>>,
  sigmaSteps = SMOOTHING_SIGMA_STEPS,
): Array<Array<number | undefined>> {
  return values.map((row, i) =>
    row.map((own, j) => {
      if (own === undefined) return undefined;
      if (sigmaSteps === 0) return own;
      let weighted = 0;
      let total = 0;
      values.forEach((other, k) =>
        other.forEach((value, l) => {
          if (value === undefined) return;
          const weight = Math.exp(-((i - k) ** 2 + (j - l) ** 2) / (2 * sigmaSteps ** 2));
          weighted += weight * value;
          total += weight;
        }),
      );
      return weighted / total;
    }),
  );
}

/** The vertex of the parabola through (−1, left), (0, center), (1, right), within half a step of 0. */
function parabolicOffset(left: number, center: number, right: number): number {
  const curvature = left - 2 * center + right;
  if (!(curvature < 0)) return 0;
  return Math.max(-0.5, Math.min(0.5, (left - right) / (2 * curvature)));
}

/** log2 of the grid value at a fractional index, linear in log2 between neighbours. */
function log2At(values: readonly number[], index: number, offset: number): number {
  const here = Math.log2(values[index] as number);
  const neighbour = values[offset < 0 ? index - 1 : index + 1];
  if (offset === 0 || neighbour === undefined) return here;
  return here + Math.abs(offset) * (Math.log2(neighbour) - here);
}

/**
 * The maximum of a smoothed surface: the best grid point (the first on a tie), refined along each
 * axis by a parabola through it and its two neighbours when both exist. Radii of 0 (SGD) make the
 * ρ coordinate null.
 */
export function locateOptimum(
  smoothed: ReadonlyArray<ReadonlyArray<number | undefined>>,
  lrs: readonly number[],
  rhos: readonly number[],
): LocatedOptimum | undefined {
  let best: { i: number; j: number; value: number } | undefined;
  smoothed.forEach((row, i) =>
    row.forEach((value, j) => {
      if (value !== undefined && (best === undefined || value > best.value)) best = { i, j, value };
    }),
  );
  if (best === undefined) return undefined;
  const { i, j, value } = best;
  const at = (k: number, l: number) => smoothed[k]?.[l];
  const lrLeft = at(i - 1, j);
  const lrRight = at(i + 1, j);
  const lrOffset = lrLeft !== undefined && lrRight !== undefined ? parabolicOffset(lrLeft, value, lrRight) : 0;
  const hasRadius = rhos.every((rho) => rho > 0);
  const rhoLeft = at(i, j - 1);
  const rhoRight = at(i, j + 1);
  const rhoOffset = rhoLeft !== undefined && rhoRight !== undefined ? parabolicOffset(rhoLeft, value, rhoRight) : 0;
  return {
    log2Lr: log2At(lrs, i, lrOffset),
    log2Rho: hasRadius ? log2At(rhos, j, rhoOffset) : null,
    lrEdge: lrs.length > 1 && (i === 0 || i === lrs.length - 1),
    rhoEdge: hasRadius && rhos.length > 1 && (j === 0 || j === rhos.length - 1),
    smoothedAccuracy: value,
  };
}

/** Mean accuracy of each cell over the seeds drawn (with their multiplicity); a cell without any of them is undefined. */
function meanSurface(panel: Panel, draw: readonly number[]): Array<Array<number | undefined>> {
  return panel.cells.map((row) =>
    row.map((cell) => {
      if (cell === undefined) return undefined;
      let sum = 0;
      let count = 0;
      for (const seed of draw) {
        const accuracy = cell.get(seed);
        if (accuracy !== undefined) {
          sum += accuracy;
          count += 1;
        }
      }
      return count === 0 ? undefined : sum / count;
    }),
  );
}

const panelOptimum = (panel: Panel, draw: readonly number[]) =>
  locateOptimum(gaussianSmooth(meanSurface(panel, draw)), panel.lrs, panel.rhos);

/**
 * A 90% interval from bootstrap replicates: the point estimate ± t(0.95, n − 1) · the replicates'
 * standard deviation · sqrt(n / (n − 1)), for n seeds. A resample of n seeds has (n − 1)/n of the
 * variance of the mean of n fresh seeds, and with so few seeds the standard deviation is itself
 * uncertain, which Student's t accounts for. With 3 seeds the plain percentile interval covered a
 * known drift in 65% of synthetic experiments, this one in the share the test states.
 */
function bootstrapInterval(values: number[], estimate: number, seeds: number): Interval {
  const finite = values.filter(Number.isFinite);
  if (finite.length < 2 || !Number.isFinite(estimate) || seeds < 2) return { low: Number.NaN, high: Number.NaN };
  const halfWidth =
    tQuantile((1 + INTERVAL_LEVEL) / 2, seeds - 1) * standardDeviation(finite) * Math.sqrt(seeds / (seeds - 1));
  return { low: estimate - halfWidth, high: estimate + halfWidth };
}

/** Least-squares slope of y against log2(width). */
export function slopePerDoubling(widths: readonly number[], values: readonly number[]): number {
  if (widths.length < 2) return Number.NaN;
  return linearRegression(widths.map((width, index) => [Math.log2(width), values[index] as number])).m;
}

/** Seeds drawn with replacement, as many as there are. */
function resample(seeds: readonly number[], random: () => number): number[] {
  return seeds.map(() => seeds[Math.floor(random() * seeds.length)] as number);
}

export interface StatisticsOptions {
  readonly resamples?: number;
  /** Seeds the bootstrap's own random stream. */
  readonly seed?: number;
}

/**
 * Optima with uncertainty for several series (presets, SGD parameterizations) over the same seeds:
 * per width the optimum of the smoothed seed-mean surface with a bootstrap 90% interval of log2 η*
 * and log2 ρ*, and per series the drift per doubling of width with its interval. A bootstrap
 * replicate draws the seeds once and uses that draw at every width and in every series: one seed's
 * runs share its noisy labels and batch order, so the seeds are the unit that is resampled, and
 * differences between series (`driftDifference`) are paired.
 */
export function optimumStatistics(
  series: ReadonlyArray<{ name: string; panels: readonly Panel[] }>,
  options: StatisticsOptions = {},
): OptimumStatisticsResult {
  const seedsOf = (panels: readonly Panel[]) =>
    panels.flatMap((panel) => panel.cells.flatMap((row) => row.flatMap((cell) => [...(cell?.keys() ?? [])])));
  const seeds = [...new Set(series.flatMap(({ panels }) => seedsOf(panels)))].sort((a, b) => a - b);
  const resamples = options.resamples ?? BOOTSTRAP_RESAMPLES;
  const random = seededRandom(mixSeeds(options.seed ?? 0, 0x626f6f74));
  const draws = Array.from({ length: resamples }, () => resample(seeds, random));
  const replicates: ReplicateDrifts[] = draws.map(() => ({}));
  const statistics = series.map(({ name, panels }): SeriesStatistics => {
    const located = [...panels]
      .sort((a, b) => a.widthMult - b.widthMult)
      .map((panel) => ({ panel, point: panelOptimum(panel, seeds) }))
      .filter((entry): entry is { panel: Panel; point: LocatedOptimum } => entry.point !== undefined);
    const widths = located.map(({ panel }) => panel.widthMult);
    // Every replicate's optimum at every width (undefined where its seeds left a panel empty).
    const perDraw = draws.map((draw) => located.map(({ panel }) => panelOptimum(panel, draw)));
    const optima = located.map(({ panel, point }, index): PanelOptimum => {
      const replicated = perDraw.flatMap((row) => (row[index] === undefined ? [] : [row[index] as LocatedOptimum]));
      return {
        ...point,
        widthMult: panel.widthMult,
        log2LrInterval: bootstrapInterval(
          replicated.map((value) => value.log2Lr),
          point.log2Lr,
          seeds.length,
        ),
        log2RhoInterval:
          point.log2Rho === null
            ? null
            : bootstrapInterval(
                replicated.map((value) => value.log2Rho ?? Number.NaN),
                point.log2Rho,
                seeds.length,
              ),
        seeds: new Set(seedsOf([panel])).size,
      };
    });
    const slope = (values: ReadonlyArray<number | null | undefined>) =>
      values.every((value): value is number => typeof value === 'number')
        ? slopePerDoubling(widths, values)
        : Number.NaN;
    const drifts = perDraw.map((row) => ({
      lr: slope(row.map((value) => value?.log2Lr)),
      rho: slope(row.map((value) => value?.log2Rho)),
    }));
    drifts.forEach((drift, draw) => {
      (replicates[draw] as ReplicateDrifts)[name] = drift;
    });
    const drift = (quantity: 'lr' | 'rho', values: ReadonlyArray<number | null>): Drift | null =>
      optima.length < 2 || values.some((value) => value === null)
        ? null
        : {
            perDoubling: slope(values),
            interval: bootstrapInterval(
              drifts.map((entry) => entry[quantity]),
              slope(values),
              seeds.length,
            ),
          };
    return {
      name,
      optima,
      lrDrift: drift(
        'lr',
        optima.map((optimum) => optimum.log2Lr),
      ),
      rhoDrift: drift(
        'rho',
        optima.map((optimum) => optimum.log2Rho),
      ),
    };
  });
  return { statistics, replicates, seeds: seeds.length };
}

export interface OptimumStatisticsResult {
  readonly statistics: SeriesStatistics[];
  /** Every bootstrap replicate's drifts, for paired comparisons (driftDifference). */
  readonly replicates: ReplicateDrifts[];
  /** The number of seeds resampled. */
  readonly seeds: number;
}

/** One bootstrap replicate's drifts per series: log2 η* and log2 ρ* per doubling (NaN where undefined). */
export type ReplicateDrifts = Record<string, { lr: number; rho: number }>;

/** (drift of `a`) − (drift of `b`) for η* or ρ*, with its paired bootstrap interval; undefined if either drift is. */
export function driftDifference(
  result: OptimumStatisticsResult,
  a: string,
  b: string,
  quantity: 'lr' | 'rho',
): Drift | undefined {
  const drift = (name: string) => {
    const series = result.statistics.find((entry) => entry.name === name);
    return quantity === 'lr' ? series?.lrDrift : series?.rhoDrift;
  };
  const first = drift(a);
  const second = drift(b);
  if (!first || !second) return undefined;
  const differences = result.replicates.flatMap((replicate) => {
    const difference = (replicate[a]?.[quantity] ?? Number.NaN) - (replicate[b]?.[quantity] ?? Number.NaN);
    return Number.isFinite(difference) ? [difference] : [];
  });
  const estimate = first.perDoubling - second.perDoubling;
  return { perDoubling: estimate, interval: bootstrapInterval(differences, estimate, result.seeds) };
}
