import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { startNodeScript } from '../../fixtures/node-script-process.js';

const MODULE = new URL('./interrupts.ts', import.meta.url).href;

/**
 * A process that handles its interrupts with handleInterrupts, says when it is ready and when its
 * first signal aborted it, and (not stopped at once) exits by itself `lingerMs` after the first signal.
 */
function startProcess(lingerMs: number) {
  const script = `
    import { handleInterrupts } from ${JSON.stringify(MODULE)};
    const interrupts = handleInterrupts({ first: 'FIRST', again: 'AGAIN' });
    const keepAlive = setInterval(() => {}, 1000);
    interrupts.signal.addEventListener('abort', () => {
      setTimeout(() => {
        clearInterval(keepAlive);
        interrupts.dispose();
        process.stdout.write('DONE\\n');
        process.exitCode = interrupts.exitCode;
      }, ${lingerMs});
    });
    process.stdout.write('READY\\n');
  `;
  const run = startNodeScript(script);
  return { ...run, ready: () => run.until('READY') };
}

describe('handleInterrupts', () => {
  it('takes the copies of one Ctrl-C that launchers pass on (pnpm, tsx: within milliseconds) as one: the command finishes and exits 130', async () => {
    const run = startProcess(600);
    await run.ready();
    // The terminal's SIGINT, pnpm's copy, tsx's copy 30 ms later, and a nested pnpm's SIGTERM.
    run.child.kill('SIGINT');
    await sleep(5);
    run.child.kill('SIGINT');
    await sleep(30);
    run.child.kill('SIGINT');
    run.child.kill('SIGTERM');
    const { code, signal } = await run.exited;
    const { stdout, stderr } = run.output();
    expect({ code, signal }).toEqual({ code: 130, signal: null });
    expect(stdout).toContain('DONE');
    expect(stderr.match(/FIRST/g)).toHaveLength(1);
    expect(stderr).not.toContain('AGAIN');
  }, 30_000);

  it('stops at once, with the first signal’s code, at a second signal after the window', async () => {
    const run = startProcess(60_000);
    await run.ready();
    run.child.kill('SIGTERM');
    await sleep(1300);
    const before = performance.now();
    run.child.kill('SIGINT');
    const { code } = await run.exited;
    expect(performance.now() - before).toBeLessThan(5000);
    expect(code).toBe(143);
    const { stdout, stderr } = run.output();
    expect(stdout).not.toContain('DONE');
    expect(stderr).toMatch(/FIRST[\s\S]*AGAIN/);
  }, 30_000);

  it('stops a long synchronous computation at once on SIGINT (runInterruptibly), exit 130, and ignores the copies', async () => {
    // The words go straight to the file descriptor: the signal ends the work wherever it is, and one
    // that lands in process.stdout.write's bookkeeping leaves the stream mid-write (a later write
    // through it waits in its buffer and is lost at the exit).
    const script = `
      import { writeSync } from 'node:fs';
      import { runInterruptibly, stopAtOnceOnInterrupt } from ${JSON.stringify(MODULE)};
      stopAtOnceOnInterrupt('STOPPED');
      runInterruptibly(() => {
        // Said from inside the work: a signal before it would find vm taking the listeners off.
        writeSync(1, 'READY\\n');
        const end = Date.now() + 60_000;
        while (Date.now() < end) {}
      }, 'STOPPED');
      writeSync(1, 'FINISHED\\n');
    `;
    const { child, exited, until, output } = startNodeScript(script);
    await until('READY');
    const sent = performance.now();
    child.kill('SIGINT');
    await sleep(5);
    child.kill('SIGINT');
    expect((await exited).code).toBe(130);
    expect(performance.now() - sent).toBeLessThan(5000);
    const { stdout, stderr } = output();
    expect(stdout).not.toContain('FINISHED');
    expect(stderr.match(/STOPPED/g)).toHaveLength(1);
  }, 30_000);

  it("gives SIGINT back to the process's own handlers once interruptible work has finished", async () => {
    // vm's breakOnSigint takes the process's SIGINT listeners off while the work runs and puts them
    // back after: stopAtOnceOnInterrupt's handler sees a later Ctrl-C (its message, exit 130).
    const script = `
      import { runInterruptibly, stopAtOnceOnInterrupt } from ${JSON.stringify(MODULE)};
      stopAtOnceOnInterrupt('STOPPED');
      runInterruptibly(() => 1, 'STOPPED');
      setInterval(() => {}, 1000);
      process.stdout.write('READY\\n');
    `;
    const { child, exited, until, output } = startNodeScript(script);
    await until('READY');
    child.kill('SIGINT');
    expect(await exited).toEqual({ code: 130, signal: null });
    expect(output().stderr.match(/STOPPED/g)).toHaveLength(1);
  }, 30_000);

  it('exits 130 when a copy of the Ctrl-C comes while the interrupted work is exiting', async () => {
    // An exit listener that takes 1.5 s holds the process in process.exit, where a copy arrives.
    const script = `
      import { writeSync } from 'node:fs';
      import { runInterruptibly, stopAtOnceOnInterrupt } from ${JSON.stringify(MODULE)};
      stopAtOnceOnInterrupt('STOPPED');
      process.on('exit', () => {
        writeSync(1, 'EXITING\\n');
        const end = Date.now() + 1500;
        while (Date.now() < end) {}
      });
      runInterruptibly(() => {
        writeSync(1, 'READY\\n');
        const end = Date.now() + 60_000;
        while (Date.now() < end) {}
      }, 'STOPPED');
    `;
    const { child, exited, until } = startNodeScript(script);
    await until('READY');
    child.kill('SIGINT');
    await until('EXITING');
    child.kill('SIGINT');
    expect(await exited).toEqual({ code: 130, signal: null });
  }, 30_000);

  it('writes its message when the signal ends the work inside a write to process.stderr (a progress bar)', async () => {
    // Written through process.stderr, the message was lost in 30 of 30 runs of this: the work ended
    // in the stream's write left it mid-write, and the message waited in its buffer at the exit.
    const script = `
      import { writeSync } from 'node:fs';
      import { runInterruptibly, stopAtOnceOnInterrupt } from ${JSON.stringify(MODULE)};
      stopAtOnceOnInterrupt('STOPPED');
      runInterruptibly(() => {
        writeSync(1, 'READY\\n');
        const end = Date.now() + 60_000;
        for (let round = 0; Date.now() < end; round++) process.stderr.write('round ' + round + '\\r');
      }, 'STOPPED');
    `;
    const { child, exited, until, output } = startNodeScript(script);
    await until('READY');
    await sleep(100);
    child.kill('SIGINT');
    expect(await exited).toEqual({ code: 130, signal: null });
    expect(output().stderr.match(/STOPPED/g)).toHaveLength(1);
  }, 30_000);
});
