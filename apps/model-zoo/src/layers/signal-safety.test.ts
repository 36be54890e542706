import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { startNode } from '../../fixtures/node-script-process.js';

// TensorFlow's 2-D MatMul op corrupts the heap when a signal arrives while it runs (libtensorflow
// 2.21, with and without oneDNN; reproduced in C with a SIGALRM handler that only counts), which
// BatchMatMulV2 does not; so no layer form calls MatMul. V8's sampling profiler interrupts the main
// thread with signals every millisecond, so a profiled training run is where this shows: with the
// 2-D MatMul, the fixture below aborted ("corrupted size vs. prev_size") in 3 of 3 runs.

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
