import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporaryFolder } from '../../fixtures/temporary-folder.js';
import { expandGrid, parseGrid } from './grid.js';
import { RESULTS_FILE, ResultsLog, readResults, type SweepRow } from './results-log.js';

const rowFor = (seed: number): SweepRow => {
  const [cell] = expandGrid(parseGrid({ rules: 'sgd', seeds: [seed] }));
  return {
    cellId: cell?.id as string,
    config: cell?.config as SweepRow['config'],
    seed,
    finalTestAccuracy: 0.5,
    bestTestAccuracy: 0.5,
    trainLoss: null,
    seconds: 1,
    backend: 'wasm',
    status: 'ok',
  };
};

const folder = () => temporaryFolder('mup2-results-log-');

describe('results.jsonl', () => {
  it('reads back what was appended, one complete line per row', async () => {
    const dir = await folder();
    const log = await ResultsLog.open(dir);
    await Promise.all([log.append(rowFor(1)), log.append(rowFor(2))]);
    await log.close();
    const text = await readFile(join(dir, RESULTS_FILE), 'utf8');
    expect(text.split('\n')).toHaveLength(3);
    expect(text.endsWith('\n')).toBe(true);
    expect(await readResults(dir)).toEqual([rowFor(1), rowFor(2)]);
  });

  it('ignores a trailing partial line and cuts it from the file', async () => {
    const dir = await folder();
    const file = join(dir, RESULTS_FILE);
    const complete = `${JSON.stringify(rowFor(1))}\n`;
    await writeFile(file, `${complete}${JSON.stringify(rowFor(2)).slice(0, 40)}`);
    expect(await readResults(dir)).toEqual([rowFor(1)]);
    expect(await readFile(file, 'utf8')).toBe(complete);
    const log = await ResultsLog.open(dir);
    await log.append(rowFor(3));
    await log.close();
    expect(await readResults(dir)).toEqual([rowFor(1), rowFor(3)]);
  });

  it('leaves the file alone when asked not to repair', async () => {
    const dir = await folder();
    const text = `${JSON.stringify(rowFor(1))}\n{"cellId":`;
    await writeFile(join(dir, RESULTS_FILE), text);
    expect(await readResults(dir, { repair: false })).toHaveLength(1);
    expect(await readFile(join(dir, RESULTS_FILE), 'utf8')).toBe(text);
  });

  it('refuses a damaged complete line, naming the file and the line', async () => {
    const dir = await folder();
    await writeFile(join(dir, RESULTS_FILE), `${JSON.stringify(rowFor(1))}\nnot json\n`);
    await expect(readResults(dir)).rejects.toThrow(/results\.jsonl, line 2: not a sweep result row/);
  });

  it('is empty for a folder without results', async () => {
    expect(await readResults(await folder())).toEqual([]);
  });
});
