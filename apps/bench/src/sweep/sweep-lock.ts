import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { SweepError } from './sweep-error.js';

export const LOCK_FILE = 'sweep.lock';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The pid in a folder's lock and whether that process is alive (a sweep still writing
 * there), or undefined when the folder has no lock.
 */
export async function readSweepLock(dir: string): Promise<{ pid: number; alive: boolean } | undefined> {
  const text = await readFile(join(dir, LOCK_FILE), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const pid = Number.parseInt(text, 10);
  return Number.isSafeInteger(pid) && pid > 0 ? { pid, alive: isAlive(pid) } : { pid: Number.NaN, alive: false };
}

/**
 * Claims a results folder for this process: two sweeps appending to one
 * results.jsonl would both run the cells neither had finished. The lock holds
 * the owner's pid; a lock left by a killed sweep (its pid gone) is taken over.
 * Returns the release function.
 */
export async function lockSweepFolder(dir: string): Promise<() => Promise<void>> {
  const file = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return () => unlink(file).catch(() => {});
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = await readSweepLock(dir);
    if (owner?.alive) {
      throw new SweepError(
        `another sweep (pid ${owner.pid}) is writing to ${dir}; wait for it, or remove ${file} if that process is not a sweep.`,
      );
    }
    await unlink(file).catch(() => {});
  }
  throw new SweepError(`could not lock ${dir}: ${file} keeps reappearing; is another sweep starting there?`);
}
