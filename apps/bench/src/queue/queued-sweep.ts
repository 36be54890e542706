// A sweep whose cells run on the workers of a queue: submit, wait, collect
// into the same results folder (grid.json + results.jsonl) a local sweep writes.
import { setTimeout as sleep } from 'node:timers/promises';
import { expandGrid, gridHash, type SweepCell, type SweepGrid } from '../sweep/grid.js';
import type { SweepRow } from '../sweep/results-log.js';
import { openSweepFolder, readGridRecord, type SweepFolder } from '../sweep/sweep-folder.js';
import { checkCellConfig } from '../sweep/train-cell.js';
import type { QueueAddress } from './queue-address.js';
import { QueueError } from './queue-error.js';
import { collectCells, openSweepQueue, type SweepQueue, submitCells } from './sweep-queue.js';

export interface QueuedSweepProgress {
  readonly total: number;
  /** Cells with a row in the folder. */
  readonly collected: number;
  /** Cells on the queue, not finished yet. */
  readonly pending: number;
  /** Cells with neither a row nor a job (removed from the queue). */
  readonly missing: number;
  readonly failed: number;
  readonly diverged: number;
}

export interface QueuedSweepSummary {
  readonly out: string;
  readonly hash: string;
  readonly total: number;
  /** Cells the folder held a row for before this run. */
  readonly skipped: number;
  /** Jobs this run put on the queue. */
  readonly added: number;
  /** Cells without a row whose job was on the queue already. */
  readonly present: number;
  /** Rows this run wrote. */
  readonly collected: number;
  readonly pending: number;
  readonly missing: number;
  /** Every row of the folder for a cell of this grid, one per cell, in grid order. */
  readonly rows: SweepRow[];
  readonly seconds: number;
}

interface Collection {
  readonly cells: SweepCell[];
  readonly finished: Map<string, SweepRow>;
  readonly skipped: number;
  collected: number;
  pending: number;
  missing: number;
}

function startCollection(cells: SweepCell[], folder: SweepFolder): Collection {
  const finished = new Map<string, SweepRow>();
  for (const row of folder.rows) if (!finished.has(row.cellId)) finished.set(row.cellId, row);
  const skipped = cells.filter((cell) => finished.has(cell.id)).length;
  return { cells, finished, skipped, collected: 0, pending: 0, missing: 0 };
}

/** Writes the row of every finished job of a cell the folder has no row for yet. */
async function collectOnce(queue: SweepQueue, folder: SweepFolder, collection: Collection): Promise<void> {
  const outstanding = collection.cells.filter((cell) => !collection.finished.has(cell.id));
  const counts = await collectCells(queue, outstanding, async (row) => {
    await folder.log.append(row);
    collection.finished.set(row.cellId, row);
    collection.collected += 1;
  });
  collection.pending = counts.pending;
  collection.missing = counts.missing;
}

function progressOf(collection: Collection): QueuedSweepProgress {
  const rows = collection.cells.flatMap((cell) => collection.finished.get(cell.id) ?? []);
  return {
    total: collection.cells.length,
    collected: rows.length,
    pending: collection.pending,
    missing: collection.missing,
    failed: rows.filter((row) => row.status === 'failed').length,
    diverged: rows.filter((row) => row.status === 'diverged').length,
  };
}

function summaryOf(
  out: string,
  grid: SweepGrid,
  collection: Collection,
  submitted: { added: number; present: number },
  started: number,
): QueuedSweepSummary {
  return {
    out,
    hash: gridHash(grid),
    total: collection.cells.length,
    skipped: collection.skipped,
    added: submitted.added,
    present: submitted.present,
    collected: collection.collected,
    pending: collection.pending,
    missing: collection.missing,
    rows: collection.cells.flatMap((cell) => collection.finished.get(cell.id) ?? []),
    seconds: (performance.now() - started) / 1000,
  };
}

export interface QueuedSweepOptions {
  readonly address: QueueAddress;
  /** The results folder (created with grid.json if new; a folder of another grid is refused). */
  readonly out: string;
  /** Starts of a cell before its job is failed (default 3). */
  readonly attempts?: number;
  /** Wait for every cell and collect rows as they finish (default: return once enqueued). */
  readonly wait?: boolean;
  /** How often a waiting sweep collects (default 2 s). */
  readonly pollSeconds?: number;
  /** Called after each collection while waiting. */
  readonly onProgress?: (progress: QueuedSweepProgress) => void;
  /** Called when a round of collecting while waiting failed (Redis unreachable); the next round tries again. */
  readonly onRetry?: (error: Error) => void;
  /** Stops waiting (the jobs go on; collect later). */
  readonly signal?: AbortSignal;
}

/**
 * Puts every cell of `grid` that the folder has no row for on the queue (a
 * cell whose job is there already, finished or not, is not added again), then,
 * with `wait`, collects rows as workers finish them until every cell has one.
 * Checks the cells and the server before anything is written.
 */
export async function submitSweep(grid: SweepGrid, options: QueuedSweepOptions): Promise<QueuedSweepSummary> {
  const started = performance.now();
  const cells = expandGrid(grid);
  for (const cell of cells) checkCellConfig(cell.config);
  const queue = await openSweepQueue(options.address);
  try {
    const folder = await openSweepFolder(options.out, grid, cells.length);
    try {
      const collection = startCollection(cells, folder);
      const todo = cells.filter((cell) => !collection.finished.has(cell.id));
      const submitted = await submitCells(queue, todo, { attempts: options.attempts });
      // Rows the workers had already produced (a resubmission) are written now.
      await collectOnce(queue, folder, collection);
      while (options.wait && collection.finished.size < cells.length && collection.missing === 0) {
        options.onProgress?.(progressOf(collection));
        if (options.signal?.aborted) break;
        await sleep((options.pollSeconds ?? 2) * 1000, undefined, { signal: options.signal }).catch(() => {});
        // Redis away for a while (a restart) is waited out: the clients reconnect and the next round goes on.
        await collectOnce(queue, folder, collection).catch((error: Error) => options.onRetry?.(error));
      }
      if (options.wait) options.onProgress?.(progressOf(collection));
      return summaryOf(options.out, grid, collection, submitted, started);
    } finally {
      await folder.close();
    }
  } finally {
    await queue.close();
  }
}

/**
 * Writes the rows of the finished jobs of the folder's grid (read from its
 * grid.json) into its results.jsonl; a cell that has a row already is not
 * written again, so collecting twice writes each cell once.
 */
export async function collectSweep(
  out: string,
  options: { readonly address: QueueAddress },
): Promise<QueuedSweepSummary> {
  const started = performance.now();
  const record = await readGridRecord(out);
  if (record === undefined) {
    throw new QueueError(
      `${out} has no grid.json; collect writes into the results folder that bench sweep --queue --out made (copy it here, or run collect where the sweep was submitted).`,
    );
  }
  const cells = expandGrid(record.grid);
  const queue = await openSweepQueue(options.address);
  try {
    const folder = await openSweepFolder(out, record.grid, cells.length);
    try {
      const collection = startCollection(cells, folder);
      await collectOnce(queue, folder, collection);
      return summaryOf(out, record.grid, collection, { added: 0, present: 0 }, started);
    } finally {
      await folder.close();
    }
  } finally {
    await queue.close();
  }
}
