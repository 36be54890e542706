import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { startNode } from '../../fixtures/node-script-process.js';

// A signal that lands while oneDNN's sgemm kernel runs one of TensorFlow's products has its frame
// written into the heap, because the kernel points the stack pointer at its heap workspace (for an
// inner dimension above 252 on AVX2; docs/native-backend.md). V8's sampling profiler interrupts the
// main thread with SIGPROF every millisecond, so a profiled training run is where this shows. mup2's
// addon gives each JS thread that loads it an alternate signal stack, where V8's handler runs: without
// it, on an AVX2 machine, the fixture below aborted ("corrupted size vs. prev_size") in 3 of 3 runs.

const APP = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./profiled-steps.fixture.ts', import.meta.url));

describe.skipIf(tf.getBackend() !== 'tensorflow')('training steps on tensorflow under signals', () => {
  it('the MLP and the ViT train under `node --cpu-prof` without corrupting the heap', async () => {
    const profiles = mkdtempSync(join(tmpdir(), 'mup2-cpu-prof-'));
    try {
      const run = startNode(['--cpu-prof', '--cpu-prof-dir', profiles, '--import', 'tsx', FIXTURE], {
        cwd: APP,
        env: { ...process.env, MUP2_BACKEND: 'tensorflow', TF_CPP_MIN_LOG_LEVEL: '2' },
      });
      const { code, signal } = await run.exited;
      const { stdout, stderr } = run.output();
      expect({ code, signal, stderr: stderr.split('\n').slice(-3).join('\n') }).toEqual({
        code: 0,
        signal: null,
        stderr: expect.any(String),
      });
      expect(stdout.trim()).toBe('ok tensorflow');
    } finally {
      rmSync(profiles, { recursive: true, force: true });
    }
  }, 120_000);
});
