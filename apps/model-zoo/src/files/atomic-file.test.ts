import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeStaleTemporaryFiles } from './atomic-file.js';
import { processStartedAt } from './process-identity.js';

let root: string;
let other: ChildProcess;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mup2-atomic-file-'));
  // A live process that is not a writer of ours: what a dead writer's pid may belong to later.
  other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await new Promise((resolve) => other.once('spawn', resolve));
});
afterAll(async () => {
  other.kill('SIGKILL');
  await rm(root, { recursive: true, force: true });
});

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  return new Promise<number>((resolve) => child.on('exit', () => resolve(child.pid as number)));
}

describe('removeStaleTemporaryFiles', () => {
  it.skipIf(!existsSync('/proc/self/stat'))(
    'removes the files of dead writers and of reused pids (written before that process started); keeps live writers’',
    async () => {
      const dir = join(root, 'reused');
      await mkdir(dir);
      const pid = other.pid as number;
      const started = processStartedAt(pid) as number;
      // The process started just now, by /proc's clock (boot time plus its start ticks).
      expect(Math.abs(started - Date.now())).toBeLessThan(60_000);
      const dead = `epoch-0002.bin.tmp-${await deadPid()}`;
      const reused = `epoch-0003.bin.tmp-${pid}`;
      const live = `checkpoint.json.tmp-${pid}`;
      const own = `grid.json.tmp-${process.pid}`;
      for (const name of [dead, reused, live, own]) await writeFile(join(dir, name), 'x');
      // Last written an hour before the process with its pid started: a killed writer's, the pid since reused.
      const hourBefore = new Date(started - 3_600_000);
      await utimes(join(dir, reused), hourBefore, hourBefore);
      expect((await removeStaleTemporaryFiles(dir)).sort()).toEqual([dead, reused].sort());
      expect((await readdir(dir)).sort()).toEqual([live, own].sort());
    },
  );

  it('has nothing to remove in a folder that does not exist', async () => {
    expect(await removeStaleTemporaryFiles(join(root, 'no-such-folder'))).toEqual([]);
  });
});
