import { Worker } from 'node:worker_threads';
import { median } from './median.js';

/**
 * How much a second core adds on this machine: `threads` copies of one plain arithmetic loop run
 * together, against one alone, as throughput (2.00 for two whole cores). A VM's vCPUs can share a
 * physical core or its time; on ours two such loops have run at 1.37× one's throughput, which caps
 * any 2-thread step's speed-up below 2× (docs/performance-log.md). Printed next to the 2-thread figures.
 */
export interface CoreScaling {
  readonly threads: number;
  /** Throughput of `threads` loops together over one alone, median of `rounds`. */
  readonly ratio: number;
  /** The one loop's milliseconds alone, median. */
  readonly aloneMs: number;
}

// Each worker waits at a shared flag, then runs `iterations` of a dependent floating-point loop and
// posts its own elapsed milliseconds: start-up never counts, and all start together.
const LOOP = `
const { parentPort, workerData } = require('node:worker_threads');
const flag = new Int32Array(workerData.flag);
Atomics.wait(flag, 0, 0);
const start = performance.now();
let x = 0;
for (let i = 0; i < workerData.iterations; i++) x = x * 0.999999 + i * 0.5;
parentPort.postMessage({ ms: performance.now() - start, x });
`;

async function runWorkerLoops(copies: number, iterations: number): Promise<number[]> {
  const flag = new SharedArrayBuffer(4);
  const workers = Array.from(
    { length: copies },
    () => new Worker(LOOP, { eval: true, workerData: { flag, iterations } }),
  );
  try {
    const results = workers.map(
      (worker) =>
        new Promise<number>((resolve, reject) => {
          worker.once('message', (message: { ms: number }) => resolve(message.ms));
          worker.once('error', reject);
        }),
    );
    await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('online', resolve))));
    const view = new Int32Array(flag);
    Atomics.store(view, 0, 1);
    Atomics.notify(view, 0);
    return await Promise.all(results);
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

/** Runs `copies` loops of `iterations` together; each one's elapsed milliseconds. */
export type LoopRunner = (copies: number, iterations: number) => Promise<number[]>;

/**
 * Measures CoreScaling with loops of about `loopMs` each (default 300 ms; the whole takes ~`rounds`
 * × 2 × loopMs), on worker threads unless `run` is given (a test's stand-in).
 */
export async function measureCoreScaling(
  options: { threads?: number; rounds?: number; loopMs?: number; run?: LoopRunner } = {},
): Promise<CoreScaling> {
  const threads = options.threads ?? 2;
  const rounds = options.rounds ?? 3;
  const loopMs = options.loopMs ?? 300;
  const runLoops = options.run ?? runWorkerLoops;
  // Sized from a short calibration run so that one loop lasts about loopMs.
  const calibration = 2_000_000;
  const [calibrationMs = 1] = await runLoops(1, calibration);
  const iterations = Math.max(calibration, Math.round((calibration * loopMs) / Math.max(calibrationMs, 0.1)));
  const alone: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const [one = Number.NaN] = await runLoops(1, iterations);
    const together = await runLoops(threads, iterations);
    alone.push(one);
    ratios.push((threads * one) / Math.max(...together));
  }
  return { threads, ratio: median(ratios), aloneMs: median(alone) };
}

/** One line for the perf output. */
export function coreScalingLine(scaling: CoreScaling): string {
  return (
    `This machine: ${scaling.threads} threads of plain arithmetic ran at ${scaling.ratio.toFixed(2)}× one's ` +
    `throughput (${scaling.threads.toFixed(2)} on ${scaling.threads} whole cores): what its cores can add to ` +
    `the ${scaling.threads}-thread figures below.`
  );
}
