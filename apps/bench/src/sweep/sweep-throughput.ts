import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SweepGrid } from './grid.js';
import type { SweepRow } from './results-log.js';
import { runSweep, type SweepOptions } from './run-sweep.js';

export interface ThroughputRun {
  readonly workers: number;
  readonly cells: number;
  /** From the first cell handed out to the last row written (pool start-up included, up-front checks not). */
  readonly seconds: number;
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
 * Runs the whole grid once per worker count, each time into a fresh temporary
 * folder (removed afterwards), and times it: the sweep throughput of N workers
 * over one is the ratio of their cells per second.
 */
export async function measureSweepThroughput(
  grid: SweepGrid,
  workerCounts: readonly number[],
  options: Pick<SweepOptions, 'backend' | 'dataDir'> & { onRun?: (workers: number) => void } = {},
): Promise<ThroughputRun[]> {
  const runs: ThroughputRun[] = [];
  for (const workers of workerCounts) {
    const out = await mkdtemp(join(tmpdir(), 'mup2-sweep-bench-'));
    try {
      options.onRun?.(workers);
      let started: number | undefined;
      const summary = await runSweep(grid, {
        out,
        workers,
        backend: options.backend,
        dataDir: options.dataDir,
        onProgress: () => {
          started ??= performance.now();
        },
      });
      const seconds = (performance.now() - (started as number)) / 1000;
      runs.push({
        workers,
        cells: summary.total,
        seconds,
        cellsPerSecond: summary.total / seconds,
        rows: summary.rows,
      });
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }
  return runs;
}
