import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporaryFolder } from '../../fixtures/temporary-folder.js';
import { readResultsFolder } from './read-results-folder.js';
import { ReportError } from './report-error.js';

const folder = () => temporaryFolder('mup2-report-read-');

const resultRow = (lr: number) =>
  JSON.stringify({
    cellId: `c${lr}`,
    config: {
      model: 'mlp',
      dataset: 'mnist',
      rule: 'sam',
      preset: 'mup2',
      widthMult: 1,
      lr,
      rho: 0.1,
      epochs: 1,
      batch: 128,
      seed: 0,
    },
    seed: 0,
    finalTestAccuracy: 0.9,
    bestTestAccuracy: 0.9,
    trainLoss: 0.3,
    seconds: 1,
    backend: 'cpu',
    status: 'ok',
  });

describe('readResultsFolder', () => {
  it('recognises a sweep, lists unknown entries, and skips a line that is not a row', async () => {
    const dir = await folder();
    await writeFile(join(dir, 'grid.json'), JSON.stringify({ grid: { lrs: [0.1, 1] }, hash: 'abc' }));
    await writeFile(join(dir, 'results.jsonl'), `${resultRow(0.1)}\n{"cellId": "half a li\n${resultRow(1)}\n`);
    await writeFile(join(dir, 'notes.txt'), 'mine');
    await mkdir(join(dir, 'checkpoints'));
    await mkdir(join(dir, 'report-figures'));
    await writeFile(join(dir, 'report.html'), 'an older report');
    const contents = await readResultsFolder(dir);
    expect(contents.sweep).toMatchObject({ grid: { lrs: [0.1, 1] }, gridHash: 'abc', skippedLines: [2] });
    expect(contents.sweep!.rows.map((row) => row.config.lr)).toEqual([0.1, 1]);
    expect(contents.read).toEqual(['grid.json', 'results.jsonl']);
    expect(contents.unknown).toEqual(['checkpoints/', 'notes.txt']);
    expect(contents.coord).toBeUndefined();
    expect(contents.tables).toEqual([]);
  });

  it('reads the lock of a sweep writing to the folder, with its pid, and does not list it as unknown', async () => {
    const dir = await folder();
    await writeFile(join(dir, 'results.jsonl'), `${resultRow(0.1)}\n`);
    await writeFile(join(dir, 'sweep.lock'), `${process.pid}\n`);
    const contents = await readResultsFolder(dir);
    expect(contents.sweep?.lock).toEqual({ pid: process.pid, alive: true });
    expect(contents.unknown).toEqual([]);
  });

  it('reads coord.json and table JSON with the Markdown beside it; the commands’ companions are not unknown', async () => {
    const dir = await folder();
    await writeFile(
      join(dir, 'coord.json'),
      JSON.stringify({ config: { rule: 'sam' }, backend: 'wasm', rows: [], slopes: [] }),
    );
    await writeFile(join(dir, 'coord.png'), '');
    await writeFile(join(dir, 'coord-slopes.md'), '');
    await writeFile(join(dir, 'perf.json'), JSON.stringify({ command: 'perf', backend: 'wasm' }));
    await writeFile(join(dir, 'perf.md'), '| a |\n|---|\n| 1 |');
    await writeFile(join(dir, 'table2.json'), JSON.stringify({ command: 'table2', markdown: '| b |\n|---|\n| 2 |' }));
    const contents = await readResultsFolder(dir);
    expect(contents.coord).toMatchObject({ config: { rule: 'sam' }, backend: 'wasm' });
    expect(contents.tables.map((table) => [table.command, table.markdown])).toEqual([
      ['table2', '| b |\n|---|\n| 2 |'],
      ['perf', '| a |\n|---|\n| 1 |'],
    ]);
    expect(contents.unknown).toEqual([]);
  });

  it('lists a damaged known file with its reason and shows the rest', async () => {
    const dir = await folder();
    await writeFile(join(dir, 'coord.json'), '{"rows": 3}');
    await writeFile(join(dir, 'perf.json'), '{}');
    const contents = await readResultsFolder(dir);
    expect(contents.coord).toBeUndefined();
    expect(contents.unreadable).toEqual([
      { file: 'coord.json', reason: 'expected { rows: [...], slopes: [...] } as `bench coord` writes it' },
    ]);
    expect(contents.tables.map((table) => table.command)).toEqual(['perf']);
  });

  it('names the folder and what it looked for when nothing is recognisable', async () => {
    const empty = await folder();
    await expect(readResultsFolder(empty)).rejects.toThrow(
      `bench report: nothing to report in ${empty}. Looked for results.jsonl (with grid.json) from \`bench sweep\`, ` +
        'coord.json from `bench coord`, table2.json from `bench table2`, perf.json from `bench perf`; it is empty.',
    );
    const other = await folder();
    await writeFile(join(other, 'notes.txt'), '');
    await writeFile(join(other, 'coord.json'), 'not json');
    const error = await readResultsFolder(other).catch((caught: unknown) => caught);
    expect(ReportError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(new RegExp(`^bench report: nothing to report in ${other}\\. Looked for `));
    expect((error as Error).message).toMatch(/; could not read coord\.json \(.*JSON.*\); it holds notes\.txt\.$/);
    await expect(readResultsFolder(join(other, 'missing'))).rejects.toThrow(
      `bench report: no folder at ${join(other, 'missing')}.`,
    );
    await expect(readResultsFolder(join(other, 'notes.txt'))).rejects.toThrow('is a file, not a results folder');
  });
});
