import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { makeDirectory, removeStaleTemporaryFiles, writeFileAtomically } from '@mup2/model-zoo';
import { expandGrid, gridHash, type SweepGrid } from './grid.js';
import { RESULTS_FILE, ResultsLog, readResults, type SweepRow } from './results-log.js';
import { SweepError } from './sweep-error.js';
import { type LockOptions, lockSweepFolder } from './sweep-lock.js';

export const GRID_FILE = 'grid.json';

/** The content of grid.json: the grid a results folder belongs to. */
export interface GridRecord {
  /** SHA-256 (hex) of the grid's canonical JSON. */
  readonly hash: string;
  readonly grid: SweepGrid;
  readonly cells: number;
  /** The grids this folder held before it grew into this one (openSweepFolder's `grow`), oldest first. */
  readonly grownFrom?: ReadonlyArray<{ hash: string; grid: SweepGrid; cells: number; until: string }>;
}

export interface OpenFolderOptions extends LockOptions {
  /**
   * Accept a folder whose grid is contained in this one (every cell of it is a cell of this grid: a
   * grid grown by more values), keeping its rows, and record the old grid in grid.json's `grownFrom`.
   * Default false: a folder of any other grid is refused.
   */
  readonly grow?: boolean;
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/** The grid record of a results folder, or undefined if it has none. */
export async function readGridRecord(dir: string): Promise<GridRecord | undefined> {
  const file = join(dir, GRID_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    record = undefined;
  }
  const hash = (record as Partial<GridRecord> | undefined)?.hash;
  if (typeof hash !== 'string' || typeof (record as Partial<GridRecord>).grid !== 'object') {
    throw new SweepError(`${file} is not a sweep grid record (expected JSON with 'hash' and 'grid').`);
  }
  return record as GridRecord;
}

/** A results folder open for one sweep. */
export interface SweepFolder {
  /** The rows already there (a partial last line cut off). */
  readonly rows: SweepRow[];
  readonly log: ResultsLog;
  /** Closes the log and releases the folder. */
  close(): Promise<void>;
}

/**
 * Opens a results folder for a grid: creates it with grid.json if new,
 * refuses one that holds another grid or that another live sweep holds, and
 * returns the rows already there and a log to append to.
 */
export async function openSweepFolder(
  dir: string,
  grid: SweepGrid,
  cells: number,
  options: OpenFolderOptions = {},
): Promise<SweepFolder> {
  await makeDirectory(dir, 'nothing was written');
  // Locked before grid.json is read: two sweeps starting at once must not both claim a new folder.
  const release = await lockSweepFolder(dir, options);
  try {
    // What a sweep killed while writing grid.json or its lock left.
    await removeStaleTemporaryFiles(dir);
    return await openLocked(dir, grid, cells, release, options);
  } catch (error) {
    await release();
    throw error;
  }
}

async function openLocked(
  dir: string,
  grid: SweepGrid,
  cells: number,
  release: () => Promise<void>,
  options: OpenFolderOptions,
): Promise<SweepFolder> {
  const hash = gridHash(grid);
  const stored = await readGridRecord(dir);
  if (stored !== undefined && stored.hash !== hash) {
    const missing = stored.grid === undefined ? [] : cellsNotIn(stored.grid, grid);
    if (!options.grow || missing.length > 0) {
      throw new SweepError(
        `${dir} holds the results of another grid (hash ${stored.hash}); this grid has hash ${hash}. ` +
          (options.grow
            ? `It cannot grow into this one: ${missing.length} of its cells are not cells of this grid (e.g. ${missing[0]}). `
            : '') +
          'Rerun with the grid of that folder to resume it' +
          (options.grow ? '' : ', grow it with --grow if this grid only adds values to its lists') +
          ', or choose another --out.',
      );
    }
    const record: GridRecord = {
      hash,
      grid,
      cells,
      grownFrom: [
        ...(stored.grownFrom ?? []),
        { hash: stored.hash, grid: stored.grid, cells: stored.cells, until: new Date().toISOString() },
      ],
    };
    await writeFileAtomically(
      join(dir, GRID_FILE),
      `${JSON.stringify(record, null, 2)}\n`,
      `the folder still holds grid ${stored.hash}`,
    );
    (options.notice ?? ((line: string) => process.stderr.write(`${line}\n`)))(
      `${dir}: its grid grew from ${stored.cells} to ${cells} cells (the rows of the ${stored.cells} are kept; the old grid is in ${GRID_FILE}'s grownFrom).`,
    );
  }
  if (stored === undefined) {
    if (await exists(join(dir, RESULTS_FILE))) {
      throw new SweepError(
        `${dir} has a ${RESULTS_FILE} but no ${GRID_FILE}, so which grid it belongs to is unknown; choose another --out.`,
      );
    }
    const record: GridRecord = { hash, grid, cells };
    // Write then rename: a kill never leaves a half grid.json that would lock the folder.
    await writeFileAtomically(
      join(dir, GRID_FILE),
      `${JSON.stringify(record, null, 2)}\n`,
      'nothing was written and no cell has run',
    );
  }
  const rows = await readResults(dir);
  const log = await ResultsLog.open(dir);
  return {
    rows,
    log,
    close: async () => {
      try {
        await log.close();
      } finally {
        await release();
      }
    },
  };
}

/** The ids of the cells of `inner` that are not cells of `outer` (none: `outer` contains `inner`). */
function cellsNotIn(inner: SweepGrid, outer: SweepGrid): string[] {
  const ids = new Set(expandGrid(outer).map((cell) => cell.id));
  return expandGrid(inner)
    .map((cell) => cell.id)
    .filter((id) => !ids.has(id));
}
