import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporaryFolder } from '../../fixtures/temporary-folder.js';
import { type CellConfig, expandGrid, parseGrid } from './grid.js';
import { RESULTS_FILE, readResults, type SweepRow } from './results-log.js';
import { checkSweep, runSweep, type SweepProgress } from './run-sweep.js';
import type { CellRunner } from './sweep-pool.js';

const folder = () => temporaryFolder('mup2-run-sweep-');
const backend = process.env.MUP2_BACKEND || 'wasm';

// Seeds from 1: the zoo's initialisers pass seed·1000 + k to tf.randomNormal, and TF.js reads a seed of 0 as "unseeded".
const TINY = { widths: '0.125,0.25', rules: 'sgd,sam', seeds: '1,2', limit: 256, epochs: 1, batches: 64 };

const numbers = (rows: readonly SweepRow[]) =>
  Object.fromEntries(
    rows.map((row) => [row.cellId, [row.status, row.finalTestAccuracy, row.bestTestAccuracy, row.trainLoss]]),
  );

/** A runner that trains nothing: it tells `started` of each cell in the order it gets them, one at a time. */
function recordingRunner(started: (config: CellConfig) => void): CellRunner {
  return {
    concurrency: 1,
    run: async ({ config }) => {
      started(config);
      const outcome = { finalTestAccuracy: 0.5, bestTestAccuracy: 0.5, finalTrainAccuracy: 0.5, trainLoss: 1 };
      return { status: 'ok', ...outcome, seconds: 0, backend };
    },
    close: async () => {},
  };
}

describe('runSweep', () => {
  it('gives the same results with 2 workers as with 1, one row per cell', async () => {
    const grid = parseGrid(TINY);
    const one = await runSweep(grid, { out: await folder(), workers: 1, backend });
    const two = await runSweep(grid, { out: await folder(), workers: 2, backend });
    expect(one.total).toBe(8);
    expect(one.rows.map((row) => row.status)).toEqual(Array(8).fill('ok'));
    expect(numbers(two.rows)).toEqual(numbers(one.rows));
    expect(await readResults(two.out)).toHaveLength(8);
    // Training did something: a 10-class model that learned nothing sits near 0.1.
    expect(Math.max(...one.rows.map((row) => row.finalTestAccuracy as number))).toBeGreaterThan(0.15);
  }, 120_000);

  it('hands cells out seed by seed, widest first within a seed, and returns the rows in grid order', async () => {
    const grid = parseGrid({ ...TINY, widths: '0.125,0.5,0.25', seeds: '2,1' });
    const started: string[] = [];
    const summary = await runSweep(grid, {
      out: await folder(),
      runner: recordingRunner((config) => started.push(`${config.seed}@${config.widthMult}`)),
    });
    const seedOne = ['1@0.5', '1@0.5', '1@0.25', '1@0.25', '1@0.125', '1@0.125'];
    expect(started).toEqual([...seedOne, ...seedOne.map((cell) => cell.replace('1@', '2@'))]);
    expect(summary.rows.map((row) => row.cellId)).toEqual(expandGrid(grid).map((cell) => cell.id));

    // A rank goes before the seed: here SGD's cells first, all seeds, then SAM's.
    const ranked: string[] = [];
    await runSweep(grid, {
      out: await folder(),
      rank: (config) => (config.rule === 'sgd' ? 0 : 1),
      runner: recordingRunner((config) => ranked.push(`${config.rule} ${config.seed}@${config.widthMult}`)),
    });
    expect(ranked).toEqual([
      ...['1@0.5', '1@0.25', '1@0.125', '2@0.5', '2@0.25', '2@0.125'].map((cell) => `sgd ${cell}`),
      ...['1@0.5', '1@0.25', '1@0.125', '2@0.5', '2@0.25', '2@0.125'].map((cell) => `sam ${cell}`),
    ]);
  });

  it('records a cell that fails or diverges and finishes the rest', async () => {
    // batch 512 > the 256 training examples: the trainer rejects it once the data is loaded.
    // lr 1e6: the loss turns NaN within the first steps.
    const grid = parseGrid({ ...TINY, widths: '0.125', rules: 'sgd', seeds: '1', lrs: '0.1,1e6', batches: '64,512' });
    const out = await folder();
    const reports: SweepProgress[] = [];
    const summary = await runSweep(grid, { out, workers: 2, backend, onProgress: (report) => reports.push(report) });
    const byCell = (lr: number, batch: number) =>
      summary.rows.find((row) => row.config.lr === lr && row.config.batch === batch) as SweepRow;
    expect(byCell(0.1, 64).status).toBe('ok');
    expect(byCell(1e6, 64)).toMatchObject({ status: 'diverged', finalTestAccuracy: 0, trainLoss: null });
    for (const lr of [0.1, 1e6]) {
      expect(byCell(lr, 512)).toMatchObject({ status: 'failed', finalTestAccuracy: null });
      expect(byCell(lr, 512).error).toMatch(/InvalidOptionError: .*batch 512 is larger than the 256 training examples/);
    }
    expect(summary).toMatchObject({ total: 4, ok: 1, diverged: 1, failed: 2 });
    expect(reports.at(-1)).toMatchObject({ done: 4, running: 0, failed: 2, diverged: 1 });
    expect(Math.max(...reports.map((report) => report.running))).toBe(2);
    expect((await readFile(join(out, RESULTS_FILE), 'utf8')).trim().split('\n')).toHaveLength(4);
  });

  it('skips the cells a folder already holds', async () => {
    const out = await folder();
    const small = parseGrid({ ...TINY, widths: '0.125', rules: 'sgd', seeds: '1,2' });
    const first = await runSweep(small, { out, backend });
    expect(first).toMatchObject({ total: 2, skipped: 0, ok: 2 });
    const again = await runSweep(small, { out, backend, workers: 2 });
    expect(again).toMatchObject({ total: 2, skipped: 2, ok: 0 });
    expect(again.rows).toEqual(first.rows);
    expect(await readResults(out)).toHaveLength(2);
    expect(expandGrid(small).map((cell) => cell.id)).toEqual(first.rows.map((row) => row.cellId));
  });
});

describe('runSweep with an abort signal', () => {
  it('stops handing out cells, keeps the finished rows, and a rerun completes the grid', async () => {
    const out = await folder();
    const grid = parseGrid({ ...TINY, widths: '0.125', rules: 'sgd', seeds: '1,2,3' });
    const abort = new AbortController();
    const stopped = await runSweep(grid, {
      out,
      backend,
      signal: abort.signal,
      onProgress: (report) => report.done === 1 && abort.abort(),
    });
    expect(stopped.rows).toHaveLength(1);
    const rest = await runSweep(grid, { out, backend });
    expect(rest).toMatchObject({ total: 3, skipped: 1, ok: 2 });
    expect(await readResults(out)).toHaveLength(3);
  });
});

describe('checkSweep', () => {
  it('rejects, before anything runs, a combination the trainer refuses', async () => {
    const out = join(await folder(), 'never');
    const grid = parseGrid({ ...TINY, optimizer: 'adam', momentum: 0.5 });
    await expect(runSweep(grid, { out, backend })).rejects.toThrow(
      /grid: the trainer rejects cell .*momentum applies to optimizer 'sgd' only/,
    );
    await expect(readFile(join(out, 'grid.json'))).rejects.toThrow(/ENOENT/);
  });

  it('rejects a backend that cannot be used', async () => {
    await expect(checkSweep(parseGrid(TINY), { backend: 'webgpu' })).rejects.toThrow(/backend 'webgpu'/);
  });
});
