import { rmSync } from 'node:fs';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { onProcessExit } from './exit-cleanup.js';
import { FileWriteError } from './file-write-error.js';
import { processExists } from './process-identity.js';

/** `<name>.tmp-<pid>`: the writer's pid in the name tells, later, whether the writer still runs. */
const TEMPORARY_NAME = /\.tmp-(\d+)(?:-[0-9a-f-]+)?$/;

/**
 * The temporary name this process writes `path` under before moving it into place; `unique` (hex
 * digits and dashes, such as a UUID) tells apart two writes of one path by one process.
 */
export function temporaryPathOf(path: string, unique?: string): string {
  return `${path}.tmp-${process.pid}${unique !== undefined ? `-${unique}` : ''}`;
}

/**
 * Writes `data` to `path` so that `path` holds either its old content or all of the new one: a
 * temporary file next to it, synced, then renamed over it. If the write fails (a full disk, no
 * permission), the temporary file is removed and a FileWriteError names `path`, the system's
 * error and `kept`, what the caller still has. A process that exits mid-write (a second Ctrl-C)
 * removes the temporary file too; one killed outright leaves it to `removeStaleTemporaryFiles`.
 */
export async function writeFileAtomically(path: string, data: Uint8Array | string, kept: string): Promise<void> {
  const temporary = temporaryPathOf(path);
  const forget = onProcessExit(() => rmSync(temporary, { force: true }));
  try {
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => {});
    throw FileWriteError.of(path, error, kept);
  } finally {
    forget();
  }
}

/**
 * Removes the temporary files (`*.tmp-<pid>`) in `dir` whose writer no longer runs: what a writer
 * killed mid-write leaves (up to a whole checkpoint each). Those of running processes stay.
 * Returns the names removed; a folder that does not exist has none.
 */
export async function removeStaleTemporaryFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const pid = Number(TEMPORARY_NAME.exec(name)?.[1]);
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || processExists(pid)) continue;
    await rm(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}
