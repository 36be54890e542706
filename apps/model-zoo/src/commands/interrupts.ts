import { writeSync } from 'node:fs';
import { constants } from 'node:os';
import { runInThisContext } from 'node:vm';

/**
 * Signals that arrive within this many milliseconds of the first are the same request. One Ctrl-C
 * in a terminal reaches every process of the foreground group at once, and the launchers in
 * between pass it on again: pnpm sends its script SIGINT (a few ms later; a nested pnpm adds
 * SIGTERM), and tsx's CLI sends its child SIGINT unless the child reports back over tsx's IPC
 * pipe within 30 ms (and SIGKILL 30 ms after that). Counted naively, one Ctrl-C reads as two.
 */
export const REPEATED_SIGNAL_WINDOW_MS = 1000;

export type StopSignal = 'SIGINT' | 'SIGTERM';

export interface InterruptOptions {
  /** Written (after a newline) at the first signal: what the command does now, e.g. "stopping after the running cells…". */
  readonly first: string;
  /** Written at a second signal, just before the process exits at once. */
  readonly again?: string;
  /** Signals that stop the command. Default SIGINT and SIGTERM. */
  readonly signals?: readonly StopSignal[];
  /** Default REPEATED_SIGNAL_WINDOW_MS. */
  readonly windowMs?: number;
  /** Where the messages go. Default stderr. */
  readonly write?: (text: string) => void;
}

export interface Interrupts {
  /** Aborted at the first signal: the command stops what it can stop and finishes the rest. */
  readonly signal: AbortSignal;
  /** 128 + the first signal's number (130 for SIGINT, 143 for SIGTERM) once one came, else undefined. */
  readonly exitCode: number | undefined;
  /**
   * Stops listening when no signal came, so a signal stops the process at once again (exit 130 through
   * exit-on-interrupt.mjs where the CLI loaded it, else the signal's default action).
   * After a signal it keeps listening until the process exits: a late repeat of the first must not
   * kill the process by default while it writes its summary, and a new one still stops it at once.
   */
  dispose(): void;
}

/**
 * The Ctrl-C behaviour of a long command: the first SIGINT (or SIGTERM) aborts `signal` and writes
 * `first`, and the command winds down (finishes or abandons its running work, writes what it has,
 * releases its locks) and exits with `exitCode`; a second signal, one that comes more than
 * `windowMs` after the first, writes `again` and exits at once with that code, running the
 * process's exit handlers (which remove locks and temporary files: see onProcessExit).
 */
export function handleInterrupts(options: InterruptOptions): Interrupts {
  const signals = options.signals ?? ['SIGINT', 'SIGTERM'];
  const windowMs = options.windowMs ?? REPEATED_SIGNAL_WINDOW_MS;
  const write = options.write ?? ((text: string) => process.stderr.write(text));
  const abort = new AbortController();
  let firstAt = 0;
  let exitCode: number | undefined;
  const onSignal = (signal: StopSignal) => {
    const now = performance.now();
    if (exitCode === undefined) {
      firstAt = now;
      exitCode = 128 + constants.signals[signal];
      // Before aborting: what listens to the abort may exit the process.
      write(`\n${options.first}\n`);
      abort.abort();
      return;
    }
    if (now - firstAt < windowMs) return;
    if (options.again !== undefined) write(`\n${options.again}\n`);
    process.exit(exitCode);
  };
  for (const signal of signals) process.on(signal, onSignal);
  return {
    signal: abort.signal,
    get exitCode() {
      return exitCode;
    },
    dispose: () => {
      if (exitCode !== undefined) return;
      for (const signal of signals) process.off(signal, onSignal);
    },
  };
}

const WORK = Symbol.for('@mup2/interruptible-work');

/**
 * Runs `work`, a long synchronous computation (a timing loop, a coordinate check of one model), so
 * that a Ctrl-C stops it at once: a signal handler runs only when the event loop turns, which a
 * synchronous loop never lets it do, but V8 can end a script on SIGINT (vm's breakOnSigint, as the
 * Node REPL does). Then the process writes `message` and exits 130 right away. Process-level SIGINT
 * handlers are off while `work` runs. The work is ended wherever it is, a write to a stream included:
 * what the process writes after, it should write with `fs.writeSync`.
 */
export function runInterruptibly<T>(work: () => T, message: string): T {
  const slot = globalThis as { [WORK]?: () => T };
  slot[WORK] = work;
  try {
    return runInThisContext(`globalThis[Symbol.for('@mup2/interruptible-work')]()`, { breakOnSigint: true }) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_SCRIPT_EXECUTION_INTERRUPTED') throw error;
    // Straight to the file descriptor: the signal may have ended the work inside a write to
    // process.stderr (a progress bar's update), leaving that stream mid-write, and the message
    // written through it would wait in its buffer and be lost at the exit.
    writeSync(2, `\n${message}\n`);
    process.exit(128 + constants.signals.SIGINT);
  } finally {
    delete slot[WORK];
  }
}

/**
 * Ctrl-C for a command that writes its results only at the end (bench coord, perf): it stops at once
 * with exit code 130, `message` saying that nothing was written. A Ctrl-C during `runInterruptibly`
 * work does the same. SIGTERM keeps its default (an immediate exit).
 */
export function stopAtOnceOnInterrupt(message: string): Interrupts {
  const interrupts = handleInterrupts({ first: message, signals: ['SIGINT'] });
  interrupts.signal.addEventListener('abort', () => process.exit(interrupts.exitCode));
  return interrupts;
}
