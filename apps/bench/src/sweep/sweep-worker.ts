// A piscina worker thread: one TF.js backend of its own, one cell per task.
import { workerData } from 'node:worker_threads';
import { initBackend } from '@mup2/core';
import type { CellConfig } from './grid.js';
import { type CellOutcome, failedOutcome, trainCell } from './train-cell.js';

export interface CellTask {
  readonly config: CellConfig;
  readonly dataDir?: string;
}

/** What the pool hands each worker at start. */
export interface SweepWorkerData {
  readonly backend?: string;
}

let backendReady: Promise<string> | undefined;

export default async function runCellTask(task: CellTask): Promise<CellOutcome> {
  const { backend } = (workerData ?? {}) as SweepWorkerData;
  backendReady ??= initBackend({ backend, log: () => {} });
  try {
    await backendReady;
  } catch (error) {
    return failedOutcome(error);
  }
  return trainCell(task.config, task.dataDir);
}
