// A piscina worker thread: one TF.js backend of its own, one cell per task.
import { workerData } from 'node:worker_threads';
import { initBackend } from '@mup2/core';
import { type DatasetName, lastDatasetKept, loadRules, type MemoryLimit } from '@mup2/model-zoo';
import type { CellConfig } from './cell-config.js';
import { type CellOutcome, failedOutcome, trainCell } from './train-cell.js';

export interface CellTask {
  readonly config: CellConfig;
  readonly dataDir?: string;
  /** --rule-module specs (absolute paths or package names) for rules that are not installed. */
  readonly ruleModules?: readonly string[];
  /** The cell's memory limit (default: trainRun's, 75% of the memory available when it starts). */
  readonly memoryLimit?: MemoryLimit;
}

/** Start-up work done before the first cell, so that it does not count against the first cell's time. */
export interface WarmupTask {
  readonly warmup: {
    readonly datasets: readonly DatasetName[];
    readonly dataDir?: string;
    readonly limit?: number;
    readonly testLimit?: number;
    readonly ruleModules?: readonly string[];
  };
  /**
   * One Int32 counter shared by the pool's warm-up tasks, and how many there are.
   * Each task waits until all have arrived: a thread runs one task at a time, so
   * then every thread holds one, and none is left cold for a fast one to warm twice.
   */
  readonly barrier: { readonly arrived: SharedArrayBuffer; readonly parties: number };
}

/** Longest wait for the other threads at the warm-up barrier (a thread that died never arrives). */
const BARRIER_TIMEOUT_MS = 120_000;

function awaitBarrier({ arrived, parties }: WarmupTask['barrier']): void {
  const counter = new Int32Array(arrived);
  Atomics.add(counter, 0, 1);
  Atomics.notify(counter, 0);
  const deadline = Date.now() + BARRIER_TIMEOUT_MS;
  for (let seen = Atomics.load(counter, 0); seen < parties && Date.now() < deadline; seen = Atomics.load(counter, 0)) {
    Atomics.wait(counter, 0, seen, 100);
  }
}

/** What the pool hands each worker at start. */
export interface SweepWorkerData {
  readonly backend?: string;
}

let backendReady: Promise<string> | undefined;
// This thread's cells share a data set: loaded at the warm-up or by the first cell, kept for the next (one at a time).
const keptDatasetLoader = lastDatasetKept();

export default async function runSweepTask(task: CellTask | WarmupTask): Promise<CellOutcome | null> {
  const { backend } = (workerData ?? {}) as SweepWorkerData;
  backendReady ??= initBackend({ backend, log: () => {} });
  if ('warmup' in task) {
    // Failures surface in the cells, with their error in the row.
    await backendReady.catch(() => {});
    // Loaded as the cells ask for it, so the first cell finds it kept (a grid of one data set).
    const { dataDir, limit, testLimit } = task.warmup;
    for (const name of task.warmup.datasets)
      await keptDatasetLoader({ name, dataDir, limit, testLimit }).catch(() => {});
    // Rule packages are imported once per thread; this is where.
    await loadRules({ modules: task.warmup.ruleModules }).catch(() => {});
    awaitBarrier(task.barrier);
    return null;
  }
  try {
    await backendReady;
  } catch (error) {
    return failedOutcome(error);
  }
  return trainCell(task.config, task.dataDir, task.ruleModules, task.memoryLimit, keptDatasetLoader);
}
