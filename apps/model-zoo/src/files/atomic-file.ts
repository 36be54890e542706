import { rmSync } from 'node:fs';
import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { onProcessExit } from './exit-cleanup.js';
import { FileWriteError } from './file-write-error.js';
import { processExists, processStartedAt } from './process-identity.js';

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
 * A file last written this long before the process that now has its writer's pid started was not
 * written by that process: its writer is gone and the pid was reused. The margin covers the
 * start time's coarseness (boot time in whole seconds).
 */
const REUSED_PID_MARGIN_MS = 10_000;

/** Whether the writer of a temporary file, by the pid in its name, may still be writing it. */
async function writerMayRun(path: string, pid: number): Promise<boolean> {
  if (pid === process.pid) return true;
  if (!processExists(pid)) return false;
  const started = processStartedAt(pid);
  if (started === undefined) return true;
  const modified = await stat(path).then(
    (stats) => stats.mtimeMs,
    () => undefined,
  );
  return modified === undefined || modified >= started - REUSED_PID_MARGIN_MS;
}

/**
 * Removes the temporary files (`*.tmp-<pid>`) in `dir` whose writer no longer runs: what a writer
 * killed mid-write leaves (up to a whole checkpoint each). A file whose pid now belongs to a process
 * that started after the file was last written is a dead writer's too (the pid was reused). Those of
 * running writers, and this process's own, stay. Returns the names removed; a folder that does not
 * exist has none.
 */
export async function removeStaleTemporaryFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const pid = Number(TEMPORARY_NAME.exec(name)?.[1]);
    if (!Number.isSafeInteger(pid) || pid <= 0 || (await writerMayRun(join(dir, name), pid))) continue;
    await rm(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}
