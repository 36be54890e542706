import { initBackend } from '@mup2/core';
import { configureNativeThreads, loadRules, type MemoryLimit } from '@mup2/model-zoo';
import { type CellConfig, expandGrid, gridHash, type SweepCell, type SweepGrid } from './grid.js';
import type { SweepRow } from './results-log.js';
import { openSweepFolder } from './sweep-folder.js';
import { type CellRunner, createSweepPool } from './sweep-pool.js';
import { checkCellConfig, checkCellMemory, checkDataset, failedOutcome, rowOfOutcome } from './train-cell.js';

export interface SweepProgress {
  /** Cells of the grid. */
  readonly total: number;
  /** Cells found finished in the folder before this run. */
  readonly skipped: number;
  /** Cells finished by this run (any status). */
  readonly done: number;
  readonly running: number;
  readonly failed: number;
  readonly diverged: number;
  /** The row just written, if this report is for one. */
  readonly row?: SweepRow;
}

export interface SweepOptions {
  /** The results folder (created if new). */
  readonly out: string;
  /** Let a folder of a grid this one contains grow into it, keeping its rows (openSweepFolder's `grow`). */
  readonly grow?: boolean;
  /** Worker threads (default 1). Ignored when `runner` is given. */
  readonly workers?: number;
  /** TF.js backend for every worker (default: initBackend's choice). */
  readonly backend?: string;
  /** Where data sets other than mnist are read from. */
  readonly dataDir?: string;
  /** --rule-module specs (absolute paths or package names) of rules that are not installed; every worker loads them. */
  readonly ruleModules?: readonly string[];
  /** Runs the cells instead of a local pool of `workers` threads (e.g. a distributed queue). Closed at the end. */
  readonly runner?: CellRunner;
  /** Called once the workers are up, before the first cell (done = 0), and whenever a cell starts or finishes. */
  readonly onProgress?: (progress: SweepProgress) => void;
  /** Stops handing out cells; the running ones finish and are written. */
  readonly signal?: AbortSignal;
  /**
   * The most memory the cells running at once may need together, by their estimate (checkTrainingMemory);
   * every cell is checked against its share before anything runs, and again when it starts. Default: 75% of
   * the available memory. Local worker threads only: a queue's workers check against their own machines'.
   */
  readonly memoryLimit?: MemoryLimit;
  /** Where one-line notices go (a stale lock taken over). Default stderr. */
  readonly notice?: (line: string) => void;
  /**
   * Cells of a lower rank are handed out first (default: all 0). Within a rank, seed by seed,
   * widest model first. An experiment whose run may be cut short ranks what it needs most first.
   */
  readonly rank?: (config: CellConfig) => number;
}

export interface SweepSummary {
  readonly out: string;
  readonly hash: string;
  /** The backend the main thread found usable (workers use the same request). */
  readonly backend: string;
  readonly total: number;
  readonly skipped: number;
  /** Cells this run finished, by status. */
  readonly ok: number;
  readonly failed: number;
  readonly diverged: number;
  /** Every row of the folder for a cell of this grid, one per cell, in grid order. */
  readonly rows: SweepRow[];
  readonly seconds: number;
}

/**
 * Checks everything that can be checked before a cell runs: every cell's
 * config against the trainer, every data set by loading it once, the
 * backend by initialising it. Throws a Mup2Error before anything is written.
 */
export async function checkSweep(
  grid: SweepGrid,
  options: Pick<SweepOptions, 'backend' | 'dataDir' | 'ruleModules' | 'memoryLimit'> & {
    /** The share of the memory limit a cell gets (1 / the cells run at once); no memory check without it. */
    readonly memoryShare?: number;
  } = {},
): Promise<{ cells: SweepCell[]; backend: string }> {
  const cells = expandGrid(grid);
  const rules = await loadRules({ modules: options.ruleModules });
  for (const cell of cells) checkCellConfig(cell.config, rules);
  // Before the data sets load: a grid with a cell too large is refused at once.
  if (options.memoryShare !== undefined) {
    for (const cell of cells) checkCellMemory(cell.config, options.memoryLimit, options.memoryShare);
  }
  for (const dataset of grid.datasets) {
    await checkDataset(dataset, { dataDir: options.dataDir, limit: grid.limit ?? undefined });
  }
  const backend = await initBackend({ backend: options.backend, log: () => {} });
  return { cells, backend };
}

/**
 * Runs every cell of `grid` that `out` does not hold a row for yet, `workers`
 * at a time, and appends one row per finished cell to out/results.jsonl
 * (from this thread only). A cell that fails is recorded with its error and
 * the sweep goes on. Rerunning with the same grid and folder resumes; a folder
 * of another grid is refused.
 */
export async function runSweep(grid: SweepGrid, options: SweepOptions): Promise<SweepSummary> {
  const started = performance.now();
  // Before checkSweep loads the backend in this thread: libtensorflow sizes its pools once per process.
  configureNativeThreads({ workers: options.runner ? 1 : (options.workers ?? 1) });
  // Cells in local threads share this machine's memory; a queue's workers check against their own.
  const concurrent = Math.max(1, Math.min(options.workers ?? 1, expandGrid(grid).length));
  const { cells, backend } = await checkSweep(grid, {
    ...options,
    ...(options.runner === undefined && { memoryShare: 1 / concurrent }),
  });
  const folder = await openSweepFolder(options.out, grid, cells.length, {
    ...(options.notice !== undefined && { notice: options.notice }),
    ...(options.grow === true && { grow: true }),
  });
  const finished = new Map<string, SweepRow>();
  for (const row of folder.rows) if (!finished.has(row.cellId)) finished.set(row.cellId, row);
  // Handed out by rank, then seed by seed (a folder stopped half-way holds whole grids of its first seeds)
  // and, within a seed, widest model first (the longest cells start early, so none runs alone at the end).
  const rank = options.rank ?? (() => 0);
  const todo = cells
    .filter((cell) => !finished.has(cell.id))
    .sort(
      (a, b) =>
        rank(a.config) - rank(b.config) || a.config.seed - b.config.seed || b.config.widthMult - a.config.widthMult,
    );
  const skipped = cells.length - todo.length;
  const counts = { done: 0, running: 0, ok: 0, failed: 0, diverged: 0 };
  const report = (row?: SweepRow) =>
    options.onProgress?.({
      total: cells.length,
      skipped,
      done: counts.done,
      running: counts.running,
      failed: counts.failed,
      diverged: counts.diverged,
      row,
    });
  // A Ctrl-C while the grid was checked: nothing is started.
  const runner =
    options.runner ??
    (todo.length > 0 && !options.signal?.aborted
      ? createSweepPool({ workers: Math.min(options.workers ?? 1, todo.length), backend: options.backend })
      : undefined);
  try {
    if (todo.length > 0) {
      await runner?.ready?.({
        datasets: grid.datasets,
        dataDir: options.dataDir,
        limit: grid.limit ?? undefined,
        testLimit: grid.testLimit ?? undefined,
        ruleModules: options.ruleModules,
      });
    }
    report();
    let next = 0;
    let broken = false;
    const lane = async () => {
      while (next < todo.length && !broken && !options.signal?.aborted) {
        const cell = todo[next++] as SweepCell;
        counts.running += 1;
        report();
        const cellStarted = performance.now();
        const outcome = await (runner as CellRunner)
          .run({
            config: cell.config,
            dataDir: options.dataDir,
            ruleModules: options.ruleModules,
            ...(options.memoryLimit !== undefined && { memoryLimit: options.memoryLimit }),
          })
          .catch((error: unknown) => failedOutcome(error, (performance.now() - cellStarted) / 1000));
        const row = rowOfOutcome(cell, outcome);
        try {
          await folder.log.append(row);
        } catch (error) {
          // A results file that cannot be written (disk full, folder gone) stops every lane.
          broken = true;
          throw error;
        }
        finished.set(cell.id, row);
        counts.running -= 1;
        counts.done += 1;
        counts[row.status] += 1;
        report(row);
      }
    };
    const lanes = await Promise.allSettled(Array.from({ length: runner?.concurrency ?? 0 }, lane));
    const failure = lanes.find((lane) => lane.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
  } finally {
    await runner?.close();
    await folder.close();
  }
  return {
    out: options.out,
    hash: gridHash(grid),
    backend,
    total: cells.length,
    skipped,
    ok: counts.ok,
    failed: counts.failed,
    diverged: counts.diverged,
    rows: cells.flatMap((cell) => finished.get(cell.id) ?? []),
    seconds: (performance.now() - started) / 1000,
  };
}
