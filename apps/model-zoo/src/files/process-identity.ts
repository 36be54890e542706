import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** Enough to tell a process from a later one that got the same pid: the pid, when the kernel started it, and the host. */
export interface ProcessIdentity {
  readonly pid: number;
  /** The kernel's start time of the process, opaque (Linux: clock ticks since boot); null where it cannot be read. */
  readonly started: string | null;
  readonly host: string;
}

/** Whether a process with this pid exists (EPERM: it does, owned by another user). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * When the kernel started process `pid`: field 22 of /proc/<pid>/stat on Linux. Undefined where
 * there is no /proc or no such process. Two processes that had the same pid differ in it.
 */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Field 2, the command name, is in parentheses and may hold spaces and parentheses itself: count after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (the state), so field 22 is fields[19].
  const started = fields[19];
  return started !== undefined && /^\d+$/.test(started) ? started : undefined;
}

/** Clock ticks per second of /proc's times: USER_HZ, 100 on every Linux architecture Node runs on. */
const USER_HZ = 100;

/** When the system booted, in ms since the epoch: btime of /proc/stat. Undefined where there is none. */
function bootTime(): number | undefined {
  try {
    const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1];
    return btime === undefined ? undefined : Number(btime) * 1000;
  } catch {
    return undefined;
  }
}

/**
 * When process `pid` started, in ms since the epoch (to within a second or so: boot time is in whole
 * seconds), or undefined where there is no /proc or no such process.
 */
export function processStartedAt(pid: number): number | undefined {
  const ticks = processStartTime(pid);
  const boot = bootTime();
  return ticks === undefined || boot === undefined ? undefined : boot + (Number(ticks) * 1000) / USER_HZ;
}

/** This process. */
export function currentProcess(): ProcessIdentity {
  return { pid: process.pid, started: processStartTime(process.pid) ?? null, host: hostname() };
}

/**
 * Whether the process a record names still runs: 'gone' when no process has its pid or the pid now
 * belongs to a process started at another time; 'other-host' when it ran on another machine
 * (a folder on a shared disk), where this cannot be checked.
 */
export function processStatus(identity: ProcessIdentity): 'running' | 'gone' | 'reused' | 'other-host' {
  if (identity.host !== hostname()) return 'other-host';
  if (!processExists(identity.pid)) return 'gone';
  if (identity.started === null) return 'running';
  const started = processStartTime(identity.pid);
  return started === undefined || started === identity.started ? 'running' : 'reused';
}
