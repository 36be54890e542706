import { type FileHandle, open, readFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { FileWriteError } from '@mup2/model-zoo';
import type { CellConfig } from './grid.js';
import { SweepError } from './sweep-error.js';

export const RESULTS_FILE = 'results.jsonl';

export type CellStatus = 'ok' | 'failed' | 'diverged';

/** One finished cell: a line of results.jsonl. Numbers the run did not produce (a failed cell, a NaN loss) are null. */
export interface SweepRow {
  readonly cellId: string;
  readonly config: CellConfig;
  readonly seed: number;
  readonly finalTestAccuracy: number | null;
  readonly bestTestAccuracy: number | null;
  /** Accuracy on the training split at the final weights (absent in rows of sweeps before it was recorded). */
  readonly finalTrainAccuracy?: number | null;
  readonly trainLoss: number | null;
  readonly seconds: number;
  readonly backend: string | null;
  readonly status: CellStatus;
  readonly error?: string;
}

const STATUSES: readonly string[] = ['ok', 'failed', 'diverged'] satisfies CellStatus[];

function isRow(value: unknown): value is SweepRow {
  if (typeof value !== 'object' || value === null) return false;
  const row = value as Record<string, unknown>;
  return (
    typeof row.cellId === 'string' &&
    typeof row.config === 'object' &&
    row.config !== null &&
    typeof row.status === 'string' &&
    STATUSES.includes(row.status)
  );
}

export interface ReadResultsOptions {
  /** Cut a trailing partial line (left by a process killed while appending) from the file. Default true. */
  readonly repair?: boolean;
}

/**
 * The rows of `dir`/results.jsonl, in the order they were written ([] when
 * there is no such file). A last line without its newline is a write cut short
 * by a kill: it is not a row, and (unless `repair` is false) the file is cut
 * back to its last complete line so that the next append starts a fresh line.
 * A complete line that is not a row is damage nothing here could cause, and throws.
 */
export async function readResults(dir: string, options: ReadResultsOptions = {}): Promise<SweepRow[]> {
  const file = join(dir, RESULTS_FILE);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const complete = bytes.lastIndexOf(0x0a) + 1;
  if (complete < bytes.length && (options.repair ?? true)) await truncate(file, complete);
  const lines = bytes.subarray(0, complete).toString('utf8').split('\n');
  const rows: SweepRow[] = [];
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      parsed = undefined;
    }
    if (!isRow(parsed)) {
      throw new SweepError(
        `${file}, line ${index + 1}: not a sweep result row (${line.slice(0, 80)}${line.length > 80 ? '…' : ''}); ` +
          'the file was edited or written by something else. Move it away or fix that line.',
      );
    }
    rows.push(parsed);
  });
  return rows;
}

/**
 * Appends rows to results.jsonl, each as one write of a complete line followed
 * by an fsync, so a row is either on disk whole or (after a kill mid-write) a
 * partial last line that readResults drops. A write that fails (a full disk)
 * cuts off what it wrote, so the file ends with the last whole row, and throws
 * a FileWriteError naming the file and the rows kept. Appends are queued:
 * callers may fire them concurrently.
 */
export class ResultsLog {
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    private readonly handle: FileHandle,
    readonly file: string,
    /** Bytes of whole rows in the file. */
    private size: number,
    /** Rows in the file. */
    private rows: number,
  ) {}

  /** Opens `dir`/results.jsonl for appending. Read (and so repair) it with readResults first. */
  static async open(dir: string): Promise<ResultsLog> {
    const file = join(dir, RESULTS_FILE);
    let handle: FileHandle;
    try {
      handle = await open(file, 'a+');
    } catch (error) {
      throw FileWriteError.of(file, error, 'the rows there before are kept; no cell has run');
    }
    const bytes = await handle.readFile();
    const rows = bytes.reduce((count, byte) => count + (byte === 0x0a ? 1 : 0), 0);
    return new ResultsLog(handle, file, bytes.length, rows);
  }

  append(row: SweepRow): Promise<void> {
    const line = Buffer.from(`${JSON.stringify(row)}\n`, 'utf8');
    const next = this.queue.then(async () => {
      let written = 0;
      try {
        // One write() of a small buffer is one syscall; the loop only matters if the OS takes part of it.
        while (written < line.length) {
          const { bytesWritten } = await this.handle.write(line, written, line.length - written);
          written += bytesWritten;
        }
        await this.handle.sync();
      } catch (error) {
        // A partial line would be cut off by the next readResults anyway; cutting it now frees its space.
        if (written > 0) await this.handle.truncate(this.size).catch(() => {});
        throw FileWriteError.of(
          this.file,
          error,
          `the ${this.rows} row${this.rows === 1 ? '' : 's'} written before ${this.rows === 1 ? 'is' : 'are'} kept; ` +
            'rerun the same command to run the rest',
        );
      }
      this.size += line.length;
      this.rows += 1;
    });
    this.queue = next.catch(() => {});
    return next;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.handle.close();
  }
}
