import { type ExecFileException, execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { REPOSITORY_ROOT } from './tfjs-node-package.js';

// tfjs-node 4.22 keeps every op attribute name it has seen in one std::set per process and inserts
// into it unguarded from every worker thread that runs ops; two threads inserting at once corrupt the
// tree. The bench's sweeps train in two worker threads, and a fresh clone's `pnpm bench figure1
// --quick` died with SIGSEGV in that insert at its first cells. patches/@tensorflow__tfjs-node@4.22.0.patch
// puts a mutex around it, and `pnpm native:install` builds the patched source. Without the patch the
// fixture failed in 3 of 12 runs on an idle 2-core machine (two aborts, one hang), so up to 16 runs
// miss a missing lock with a chance of about 1%; with it, 0 of 20 failed.

const FIXTURE = fileURLToPath(new URL('./attribute-names.fixture.mjs', import.meta.url));
const RUNS = 16;

// Run without blocking: 16 runs take 20 s on an idle machine and over a minute on a loaded one, and a
// test worker whose event loop is held that long fails vitest's own RPC ("Timeout calling onTaskUpdate").
const execFileAsync = promisify(execFile);

async function runFixture(): Promise<{ status: number | string | null; signal: string | null; stdout: string }> {
  try {
    const { stdout } = await execFileAsync(process.execPath, [FIXTURE], {
      cwd: REPOSITORY_ROOT,
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    return { status: 0, signal: null, stdout };
  } catch (error) {
    const failed = error as ExecFileException & { stdout?: string };
    return { status: failed.code ?? null, signal: failed.signal ?? null, stdout: failed.stdout ?? '' };
  }
}

describe.skipIf(tf.getBackend() !== 'tensorflow')('tfjs-node in worker threads', () => {
  it('two threads naming new op attributes at once neither crash nor hang', async () => {
    for (let run = 1; run <= RUNS; run++) {
      const result = await runFixture();
      expect({ run, status: result.status, signal: result.signal, stdout: result.stdout.trim() }).toEqual({
        run,
        status: 0,
        signal: null,
        stdout: 'ok',
      });
    }
  }, 600_000);
});
