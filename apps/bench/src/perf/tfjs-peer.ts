// Our MLP SGD and SAM steps as a perf peer process (protocol: apps/bench/peers/peer_protocol.py),
// so that they are timed round by round next to PyTorch and JAX. The driver sets MUP2_BACKEND and,
// for tensorflow, TF_NUM_INTRAOP_THREADS in this process's environment: libtensorflow reads it once.
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { FUSED_KERNELS, hasFusedKernel, initBackend } from '@mup2/core';
import { loadRules } from '@mup2/model-zoo';
import * as tf from '@tensorflow/tfjs';
import { callsPerSample, msPerCall } from './interleaved-timer.js';
import { createPerfSteps, PERF_MODELS } from './perf-suite.js';

const { values } = parseArgs({ options: { warmup: { type: 'string', default: '3' } } });
const backend = await initBackend({ log: () => {} });
const { steps } = createPerfSteps(PERF_MODELS.mlp, {
  rules: ['sam'],
  registry: await loadRules(),
  scalings: ['naive'],
});
const kinds: Record<string, () => void> = { sgd: steps.sgd as () => void, sam: steps['sam naive'] as () => void };
// Each round, per kind: an untimed sample, then a timed one of as many steps (peer_protocol.py), sized as the Python peers size theirs.
const sizes: Record<string, number> = {};
for (let round = 0; round < Number(values.warmup); round++) {
  for (const [kind, step] of Object.entries(kinds)) sizes[kind] = callsPerSample(msPerCall(step, 1));
}
const fusedKernels = hasFusedKernel(FUSED_KERNELS.momentumStep);
const threads = backend === 'tensorflow' ? Number(process.env.TF_NUM_INTRAOP_THREADS) || undefined : 1;
process.stdout.write(
  `${JSON.stringify({ ready: true, framework: 'mup2 (TF.js)', version: tf.version.tfjs, backend, threads, fusedKernels })}\n`,
);
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() !== 'round') break;
  const times: Record<string, number> = {};
  for (const [kind, step] of Object.entries(kinds)) {
    msPerCall(step, sizes[kind] ?? 1);
    times[kind] = msPerCall(step, sizes[kind] ?? 1);
  }
  process.stdout.write(`${JSON.stringify(times)}\n`);
}
process.exit(0);
