import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gridHash, parseGrid } from './grid.js';
import { RESULTS_FILE } from './results-log.js';
import { openSweepFolder } from './sweep-folder.js';
import { LOCK_FILE } from './sweep-lock.js';

const folder = () => mkdtemp(join(tmpdir(), 'mup2-sweep-folder-'));

describe('openSweepFolder', () => {
  it('writes grid.json once and refuses another grid, naming both hashes', async () => {
    const dir = join(await folder(), 'sweep');
    const grid = parseGrid({ lrs: '0.1' });
    const other = parseGrid({ lrs: '0.2' });
    await (await openSweepFolder(dir, grid, 2)).close();
    const record = JSON.parse(await readFile(join(dir, 'grid.json'), 'utf8'));
    expect(record).toEqual({ hash: gridHash(grid), grid, cells: 2 });
    await (await openSweepFolder(dir, grid, 2)).close();
    await expect(openSweepFolder(dir, other, 2)).rejects.toThrow(
      new RegExp(`hash ${gridHash(grid)}\\); this grid has hash ${gridHash(other)}`),
    );
    expect((await readdir(dir)).sort()).toEqual(['grid.json', 'results.jsonl']);
  });

  it('refuses a folder with results but no grid.json', async () => {
    const dir = await folder();
    await appendFile(join(dir, RESULTS_FILE), '');
    await expect(openSweepFolder(dir, parseGrid({}), 2)).rejects.toThrow(/no grid\.json/);
  });

  it('refuses a folder another live sweep holds, and releases it on close', async () => {
    const dir = await folder();
    const grid = parseGrid({});
    const open = await openSweepFolder(dir, grid, 2);
    await expect(openSweepFolder(dir, grid, 2)).rejects.toThrow(
      new RegExp(`another sweep \\(pid ${process.pid}\\) is writing to`),
    );
    await open.close();
    await (await openSweepFolder(dir, grid, 2)).close();
    expect(await readdir(dir)).not.toContain(LOCK_FILE);
  });

  it('takes over the lock of a sweep that was killed', async () => {
    const dir = await folder();
    const child = spawn(process.execPath, ['-e', '']);
    const deadPid = await new Promise<number>((resolve) => child.on('exit', () => resolve(child.pid as number)));
    await writeFile(join(dir, LOCK_FILE), `${deadPid}\n`);
    await (await openSweepFolder(dir, parseGrid({}), 2)).close();
  });
});
