import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SweepGrid } from './grid.js';
import type { SweepRow } from './results-log.js';
import { runSweep, type SweepOptions } from './run-sweep.js';

export interface ThroughputRun {
  readonly workers: number;
  readonly cells: number;
  /** From the first cell handed out (workers up and warm) to the last row written. */
  readonly seconds: number;
  /** The whole sweep: up-front checks, worker start-up and the cells. */
  readonly wallSeconds: number;
  /**
   * CPU time of this process (every thread) over `seconds`, divided by it: the
   * cores the sweep got. Below the worker count, the machine had no more to give
   * (other processes), which no pool can fix.
   */
  readonly coresUsed: number;
  readonly cellsPerSecond: number;
  readonly rows: SweepRow[];
}

/** Cell ids whose accuracies differ between two runs of the same grid. */
export function differingCells(a: readonly SweepRow[], b: readonly SweepRow[]): string[] {
  const other = new Map(b.map((row) => [row.cellId, row]));
  return a
    .filter((row) => {
      const twin = other.get(row.cellId);
      return (
        twin === undefined ||
        twin.status !== row.status ||
        twin.finalTestAccuracy !== row.finalTestAccuracy ||
        twin.bestTestAccuracy !== row.bestTestAccuracy ||
        twin.trainLoss !== row.trainLoss
      );
    })
    .map((row) => row.cellId);
}

/**
 * Runs the whole grid once per worker count and round (counts interleaved, so
 * a change in the machine's load hits each alike), each time into a fresh
 * temporary folder (removed afterwards), and times it: the sweep throughput of
 * N workers over one is the ratio of their cells per second.
 */
export async function measureSweepThroughput(
  grid: SweepGrid,
  workerCounts: readonly number[],
  options: Pick<SweepOptions, 'backend' | 'dataDir' | 'ruleModules'> & {
    rounds?: number;
    onRun?: (workers: number, round: number) => void;
  } = {},
): Promise<ThroughputRun[]> {
  const runs: ThroughputRun[] = [];
  const schedule = Array.from({ length: options.rounds ?? 1 }, (_, round) =>
    workerCounts.map((workers) => ({ workers, round })),
  ).flat();
  for (const { workers, round } of schedule) {
    const out = await mkdtemp(join(tmpdir(), 'mup2-sweep-bench-'));
    try {
      options.onRun?.(workers, round);
      const wallStarted = performance.now();
      let started: number | undefined;
      let cpuAtStart: NodeJS.CpuUsage | undefined;
      const summary = await runSweep(grid, {
        out,
        workers,
        backend: options.backend,
        dataDir: options.dataDir,
        ruleModules: options.ruleModules,
        onProgress: () => {
          if (started !== undefined) return;
          started = performance.now();
          cpuAtStart = process.cpuUsage();
        },
      });
      const seconds = (performance.now() - (started as number)) / 1000;
      const cpu = process.cpuUsage(cpuAtStart);
      const coresUsed = (cpu.user + cpu.system) / 1e6 / seconds;
      runs.push({
        workers,
        cells: summary.total,
        seconds,
        wallSeconds: (performance.now() - wallStarted) / 1000,
        coresUsed,
        cellsPerSecond: summary.total / seconds,
        rows: summary.rows,
      });
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }
  return runs;
}

/** The fastest run of each worker count: the one least slowed by whatever else the machine was doing. */
export function bestRuns(runs: readonly ThroughputRun[]): ThroughputRun[] {
  const best = new Map<number, ThroughputRun>();
  for (const run of runs) {
    const found = best.get(run.workers);
    if (found === undefined || run.cellsPerSecond > found.cellsPerSecond) best.set(run.workers, run);
  }
  return [...best.values()];
}
