import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNodeScript, TSX_LOADER } from '../../fixtures/node-script-process.js';

const FALLBACK = new URL('./exit-on-interrupt.mjs', import.meta.url).href;
const INTERRUPTS = new URL('./interrupts.ts', import.meta.url).href;
const EXIT_CLEANUP = new URL('../files/exit-cleanup.ts', import.meta.url).href;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mup2-exit-on-interrupt-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** `script` in a process started as the bench and zoo scripts start theirs: the fallback first, then tsx. */
const start = (script: string) => startNodeScript(script, [FALLBACK, TSX_LOADER]);

describe('exit-on-interrupt (Ctrl-C while no command handles it)', () => {
  it('exits 130 at once, running the exit handlers that remove locks and temporary files', async () => {
    const leftover = join(root, 'results.jsonl.tmp-1');
    await writeFile(leftover, 'partial');
    // A process still loading its modules: no handler of its own, only an exit cleanup registered.
    const run = start(`
      import { rmSync } from 'node:fs';
      import { onProcessExit } from ${JSON.stringify(EXIT_CLEANUP)};
      onProcessExit(() => rmSync(${JSON.stringify(leftover)}));
      setInterval(() => {}, 1000);
      process.stdout.write('READY\\n');
    `);
    await run.until('READY');
    run.child.kill('SIGINT');
    // Without the fallback the signal's default action ends the process: { code: null, signal: 'SIGINT' }.
    expect(await run.exited).toEqual({ code: 130, signal: null });
    expect(run.output().stderr).toBe('\nstopped (Ctrl-C)\n');
    expect(existsSync(leftover)).toBe(false);
  }, 30_000);

  it('leaves Ctrl-C to a command’s own handling while it listens', async () => {
    const run = start(`
      import { handleInterrupts } from ${JSON.stringify(INTERRUPTS)};
      setInterval(() => {}, 1000);
      const own = handleInterrupts({ first: 'FIRST' });
      own.signal.addEventListener('abort', () => process.stdout.write('HANDLED\\n'));
      process.stdout.write('LISTENING\\n');
    `);
    try {
      await run.until('LISTENING');
      run.child.kill('SIGINT');
      await run.until('HANDLED');
      await sleep(500);
      // The command winds down in its own time (here: never), and the fallback said nothing.
      expect(run.child.exitCode).toBeNull();
      expect(run.output().stderr).toBe('\nFIRST\n');
    } finally {
      run.child.kill('SIGKILL');
    }
  }, 30_000);

  it('takes over again once a command has disposed of its handling (a report written after the cells)', async () => {
    const run = start(`
      import { handleInterrupts } from ${JSON.stringify(INTERRUPTS)};
      setInterval(() => {}, 1000);
      handleInterrupts({ first: 'FIRST' }).dispose();
      process.stdout.write('DISPOSED\\n');
    `);
    await run.until('DISPOSED');
    run.child.kill('SIGINT');
    expect(await run.exited).toEqual({ code: 130, signal: null });
    expect(run.output().stderr).toBe('\nstopped (Ctrl-C)\n');
  }, 30_000);
});
