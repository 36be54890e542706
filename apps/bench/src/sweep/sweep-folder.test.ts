import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { temporaryFolder } from '../../fixtures/temporary-folder.js';
import { gridHash, parseGrid } from './grid.js';
import { RESULTS_FILE } from './results-log.js';
import { openSweepFolder } from './sweep-folder.js';
import { LOCK_FILE, readSweepLock } from './sweep-lock.js';

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  return new Promise<number>((resolve) => child.on('exit', () => resolve(child.pid as number)));
}

/** Opens the folder with a collector of the notices (stale locks taken over). */
async function openNoting(dir: string) {
  const notices: string[] = [];
  const folder = await openSweepFolder(dir, parseGrid({}), 2, { notice: (line) => notices.push(line) });
  return { folder, notices };
}

const folder = () => temporaryFolder('mup2-sweep-folder-');

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

  it('grows into a grid that contains its own when asked, keeping the rows and the old grid; never shrinks', async () => {
    const dir = join(await folder(), 'sweep');
    const small = parseGrid({ rules: 'sgd,sam', lrs: '0.1', rhos: '0.1' });
    const grown = parseGrid({ rules: 'sgd,sam', lrs: '0.05,0.1', rhos: '0.1,0.2' });
    const first = await openSweepFolder(dir, small, 2);
    await first.log.append({ cellId: 'kept', config: {}, seed: 0, status: 'ok' } as never);
    await first.close();
    // Without grow, the bigger grid is another grid.
    await expect(openSweepFolder(dir, grown, 6)).rejects.toThrow(/grow it with --grow/);
    const notices: string[] = [];
    const opened = await openSweepFolder(dir, grown, 6, { grow: true, notice: (line) => notices.push(line) });
    expect(opened.rows.map((row) => row.cellId)).toEqual(['kept']);
    await opened.close();
    expect(notices).toEqual([expect.stringMatching(/grew from 2 to 6 cells/)]);
    const record = JSON.parse(await readFile(join(dir, 'grid.json'), 'utf8'));
    expect(record).toMatchObject({ hash: gridHash(grown), cells: 6, grownFrom: [{ hash: gridHash(small), cells: 2 }] });
    // Back to the smaller grid: some of the folder's cells are not cells of it, so it is refused.
    await expect(openSweepFolder(dir, small, 2, { grow: true })).rejects.toThrow(
      /cannot grow into this one: 4 of its cells/,
    );
  });

  it('refuses a folder with results but no grid.json', async () => {
    const dir = await folder();
    await appendFile(join(dir, RESULTS_FILE), '');
    await expect(openSweepFolder(dir, parseGrid({}), 2)).rejects.toThrow(/no grid\.json/);
  });

  it('refuses a folder another live sweep holds, naming it, and releases it on close', async () => {
    const dir = await folder();
    const grid = parseGrid({});
    const open = await openSweepFolder(dir, grid, 2);
    const lock = JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8'));
    expect(lock).toMatchObject({ pid: process.pid, host: hostname() });
    expect(typeof lock.token).toBe('string');
    await expect(openSweepFolder(dir, grid, 2)).rejects.toThrow(
      new RegExp(`another sweep \\(pid ${process.pid}, since ${lock.since}\\) is writing to`),
    );
    await open.close();
    await (await openSweepFolder(dir, grid, 2)).close();
    expect(await readdir(dir)).not.toContain(LOCK_FILE);
  });

  it('takes over the lock of a sweep that was killed (an older sweep’s lock: its pid alone), in one line', async () => {
    const dir = await folder();
    const pid = await deadPid();
    await writeFile(join(dir, LOCK_FILE), `${pid}\n`);
    const { folder: open, notices } = await openNoting(dir);
    await open.close();
    expect(notices).toEqual([
      `${join(dir, LOCK_FILE)}: taking over the lock of pid ${pid}: that process is no longer running.`,
    ]);
  });

  it.skipIf(!existsSync('/proc/self/stat'))(
    'takes over a lock whose pid now belongs to a process started later, and the report calls it stopped',
    async () => {
      const dir = await folder();
      // This process's pid with another start time: what a sweep killed long ago leaves once its pid is reused.
      const stale = {
        pid: process.pid,
        started: '1',
        host: hostname(),
        token: 'old',
        since: '2026-01-01T00:00:00.000Z',
      };
      await writeFile(join(dir, LOCK_FILE), JSON.stringify(stale));
      expect(await readSweepLock(dir)).toEqual({ pid: process.pid, alive: false });
      const { folder: open, notices } = await openNoting(dir);
      expect(await readSweepLock(dir)).toEqual({ pid: process.pid, alive: true });
      await open.close();
      expect(notices).toEqual([
        `${join(dir, LOCK_FILE)}: taking over the lock of pid ${process.pid}, since 2026-01-01T00:00:00.000Z: ` +
          'that pid now belongs to another process, started at another time.',
      ]);
    },
  );

  it('waits for an empty lock being written (refusing once its owner shows), and takes over one left empty', async () => {
    const dir = await folder();
    const file = join(dir, LOCK_FILE);
    // A sweep between creating its lock and writing it: the owner appears 300 ms later.
    await writeFile(file, '');
    const live = { pid: process.pid, started: null, host: hostname(), token: 'other', since: 'now' };
    setTimeout(() => void writeFile(file, JSON.stringify(live)), 300);
    await expect(openSweepFolder(dir, parseGrid({}), 2)).rejects.toThrow(/another sweep \(pid \d+, since now\)/);
    // One that stayed empty (its writer died in between) for a minute.
    await writeFile(file, '');
    const minuteAgo = new Date(Date.now() - 60_000);
    await utimes(file, minuteAgo, minuteAgo);
    const { folder: open, notices } = await openNoting(dir);
    await open.close();
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/: taking over the lock: the lock is empty and 60 s old\.$/);
  });

  it('refuses the lock of a sweep on another host, which cannot be checked from here', async () => {
    const dir = await folder();
    const other = { pid: 1, started: '5', host: 'another-machine', token: 'x', since: 'then' };
    await writeFile(join(dir, LOCK_FILE), JSON.stringify(other));
    await expect(openSweepFolder(dir, parseGrid({}), 2)).rejects.toThrow(
      /another sweep \(pid 1 on another-machine, since then\) .* \(it ran on another-machine, where this machine cannot check it\)\./,
    );
  });

  it('releases the lock when the process exits without closing the folder (a second Ctrl-C), and a rerun removes what killed writers left', async () => {
    const dir = await folder();
    const module = new URL('./sweep-folder.ts', import.meta.url).href;
    const script = `
      const { openSweepFolder } = await import(${JSON.stringify(module)});
      const { parseGrid } = await import(${JSON.stringify(new URL('./grid.ts', import.meta.url).href)});
      await openSweepFolder(${JSON.stringify(dir)}, parseGrid({}), 2);
      process.stdout.write('LOCKED\\n');
      process.exit(130);
    `;
    const child = spawn(process.execPath, ['--import', TSX, '--input-type=module', '-e', script], { stdio: 'pipe' });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect([code, output]).toEqual([130, 'LOCKED\n']);
    expect(await readdir(dir)).not.toContain(LOCK_FILE);
    // grid.json and the lock written by sweeps killed mid-write, and one of this (live) process.
    const pid = await deadPid();
    const leftovers = [`grid.json.tmp-${pid}`, `sweep.lock.tmp-${pid}-0f1e2d3c-aaaa-bbbb-cccc-ddddeeeeffff`];
    for (const name of [...leftovers, `grid.json.tmp-${process.pid}`]) await writeFile(join(dir, name), 'x');
    await (await openSweepFolder(dir, parseGrid({}), 2)).close();
    expect((await readdir(dir)).sort()).toEqual(['grid.json', `grid.json.tmp-${process.pid}`, 'results.jsonl']);
  });
});
