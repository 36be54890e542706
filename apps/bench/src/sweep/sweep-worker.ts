// A piscina worker thread: one TF.js backend of its own, one cell per task.
import { workerData } from 'node:worker_threads';
import { initBackend } from '@mup2/core';
import type { DatasetName } from '@mup2/model-zoo';
import type { CellConfig } from './grid.js';
import { type CellOutcome, checkDataset, failedOutcome, trainCell } from './train-cell.js';

export interface CellTask {
  readonly config: CellConfig;
  readonly dataDir?: string;
}

/** Start-up work done before the first cell, so that it does not count against the first cell's time. */
export interface WarmupTask {
  readonly warmup: { readonly datasets: readonly DatasetName[]; readonly dataDir?: string; readonly limit?: number };
}

/** What the pool hands each worker at start. */
export interface SweepWorkerData {
  readonly backend?: string;
}

let backendReady: Promise<string> | undefined;

export default async function runSweepTask(task: CellTask | WarmupTask): Promise<CellOutcome | null> {
  const { backend } = (workerData ?? {}) as SweepWorkerData;
  backendReady ??= initBackend({ backend, log: () => {} });
  if ('warmup' in task) {
    // Failures surface in the cells, with their error in the row.
    await backendReady.catch(() => {});
    for (const dataset of task.warmup.datasets) {
      await checkDataset(dataset, { dataDir: task.warmup.dataDir, limit: task.warmup.limit }).catch(() => {});
    }
    return null;
  }
  try {
    await backendReady;
  } catch (error) {
    return failedOutcome(error);
  }
  return trainCell(task.config, task.dataDir);
}
