import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { link, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  currentProcess,
  FileWriteError,
  onProcessExit,
  type ProcessIdentity,
  processStatus,
  temporaryPathOf,
} from '@mup2/model-zoo';
import { SweepError } from './sweep-error.js';

export const LOCK_FILE = 'sweep.lock';

/**
 * What sweep.lock holds: the owner's pid with its start time and host (so that a later process
 * that got the same pid is not taken for the owner), a random token (so that an owner removes
 * only its own lock), and when it took the folder. A lock of an older version holds the pid alone.
 */
export interface LockRecord extends ProcessIdentity {
  readonly token: string | null;
  readonly since: string | null;
}

/** The lock of a folder as read: its owner (undefined if the file is empty or not a lock) and whether that process runs. */
export interface LockState {
  readonly owner: LockRecord | undefined;
  readonly status: ReturnType<typeof processStatus> | 'unreadable';
  /** Seconds since the lock file was last written. */
  readonly ageSeconds: number;
  readonly text: string;
}

/** A lock that is empty or unreadable this recently may be one being written by a sweep of an older version: wait for it. */
const UNREADABLE_GRACE_SECONDS = 5;

function parseLock(text: string): LockRecord | undefined {
  if (/^\d+\s*$/.test(text)) {
    // An older sweep's lock: its pid, nothing to tell a reused pid by.
    return { pid: Number.parseInt(text, 10), started: null, host: currentProcess().host, token: null, since: null };
  }
  try {
    const value = JSON.parse(text) as Partial<LockRecord>;
    if (!Number.isSafeInteger(value.pid) || (value.pid as number) <= 0 || typeof value.host !== 'string')
      return undefined;
    return {
      pid: value.pid as number,
      started: typeof value.started === 'string' ? value.started : null,
      host: value.host,
      token: typeof value.token === 'string' ? value.token : null,
      since: typeof value.since === 'string' ? value.since : null,
    };
  } catch {
    return undefined;
  }
}

async function readLockState(file: string): Promise<LockState | undefined> {
  let text: string;
  let modified: number;
  try {
    text = await readFile(file, 'utf8');
    modified = (await stat(file)).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const owner = parseLock(text);
  return {
    owner,
    status: owner === undefined ? 'unreadable' : processStatus(owner),
    ageSeconds: Math.max(0, (Date.now() - modified) / 1000),
    text,
  };
}

const ownerText = (owner: LockRecord) =>
  `pid ${owner.pid}${owner.host !== currentProcess().host ? ` on ${owner.host}` : ''}` +
  `${owner.since !== null ? `, since ${owner.since}` : ''}`;

/**
 * The owner of a folder's lock and whether it still runs (a sweep writing there), or undefined when
 * the folder has no lock. A lock of another host counts as alive: it cannot be checked from here.
 */
export async function readSweepLock(dir: string): Promise<{ pid: number; alive: boolean } | undefined> {
  const state = await readLockState(join(dir, LOCK_FILE)).catch(() => undefined);
  if (state === undefined) return undefined;
  return {
    pid: state.owner?.pid ?? Number.NaN,
    alive: state.status === 'running' || state.status === 'other-host',
  };
}

/**
 * Creates the lock whole or not at all: the record goes to a temporary file that is then hard-linked
 * to the lock's name, which fails if a lock exists. So no reader ever sees an empty or partial lock,
 * and a full disk leaves no lock behind. Returns false when another lock is there.
 */
async function createLock(file: string, record: LockRecord): Promise<boolean> {
  const temporary = temporaryPathOf(file, record.token ?? undefined);
  const text = `${JSON.stringify(record)}\n`;
  try {
    await writeFile(temporary, text, { flag: 'wx' });
    try {
      await link(temporary, file);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
    }
    // A file system without hard links: exclusive create, then the record (empty for a moment).
    const handle = await open(file, 'wx').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST') return undefined;
      throw error;
    });
    if (handle === undefined) return false;
    try {
      await handle.writeFile(text);
      await handle.sync();
    } catch (error) {
      await handle.close();
      await rm(file, { force: true });
      throw error;
    }
    await handle.close();
    return true;
  } catch (error) {
    throw FileWriteError.of(file, error, 'nothing was written and no cell has run; the folder is as it was');
  } finally {
    await rm(temporary, { force: true }).catch(() => {});
  }
}

/**
 * Removes a stale lock, unless it changed since it was judged stale: it is first renamed aside (one
 * atomic step, so two sweeps cannot both take it), and put back if what was moved is not what was judged.
 */
async function removeStaleLock(file: string, judged: LockState): Promise<boolean> {
  const aside = `${file}.stale-${randomUUID()}`;
  try {
    await rename(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  const moved = await readFile(aside, 'utf8').catch(() => undefined);
  if (moved !== judged.text) {
    await link(aside, file).catch(() => {});
    await rm(aside, { force: true });
    return false;
  }
  await rm(aside, { force: true });
  return true;
}

function staleReason(state: LockState): string {
  switch (state.status) {
    case 'gone':
      return 'that process is no longer running';
    case 'reused':
      return 'that pid now belongs to another process, started at another time';
    default:
      return `the lock is ${state.text.trim() === '' ? 'empty' : 'not a sweep lock'} and ${Math.round(state.ageSeconds)} s old`;
  }
}

export interface LockOptions {
  /** Where the one line about a stale lock taken over goes. Default stderr. */
  readonly notice?: (line: string) => void;
}

/**
 * Claims a results folder for this process: two sweeps appending to one results.jsonl would both
 * run the cells neither had finished. The lock records this process (LockRecord), written whole.
 * A lock whose owner is gone (its pid not running, or running a process started later) is taken
 * over, with one line saying so; a live owner's lock, or one of another host, is refused. Returns
 * the release function; the lock is also released if the process exits without calling it
 * (process.exit at a second Ctrl-C).
 */
export async function lockSweepFolder(dir: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  const file = join(dir, LOCK_FILE);
  const notice = options.notice ?? ((line: string) => process.stderr.write(`${line}\n`));
  const record: LockRecord = { ...currentProcess(), token: randomUUID(), since: new Date().toISOString() };
  const deadline = Date.now() + 2 * UNREADABLE_GRACE_SECONDS * 1000;
  while (Date.now() < deadline) {
    if (await createLock(file, record)) {
      const ours = () => {
        try {
          return parseLock(readFileSync(file, 'utf8'))?.token === record.token;
        } catch {
          return false;
        }
      };
      const forget = onProcessExit(() => {
        if (ours()) rmSync(file, { force: true });
      });
      return async () => {
        forget();
        if (ours()) await rm(file, { force: true });
      };
    }
    const state = await readLockState(file);
    if (state === undefined) continue;
    if (state.status === 'running' || state.status === 'other-host') {
      const owner = state.owner as LockRecord;
      throw new SweepError(
        `another sweep (${ownerText(owner)}) is writing to ${dir}; wait for it, or remove ${file} if that process is not a sweep` +
          `${state.status === 'other-host' ? ` (it ran on ${owner.host}, where this machine cannot check it)` : ''}.`,
      );
    }
    if (state.status === 'unreadable' && state.ageSeconds < UNREADABLE_GRACE_SECONDS) {
      await sleep(200);
      continue;
    }
    if (await removeStaleLock(file, state)) {
      notice(
        `${file}: taking over the lock${state.owner ? ` of ${ownerText(state.owner)}` : ''}: ${staleReason(state)}.`,
      );
    }
  }
  throw new SweepError(`could not lock ${dir}: ${file} keeps reappearing; is another sweep starting there?`);
}
