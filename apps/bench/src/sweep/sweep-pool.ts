import { configureNativeThreads } from '@mup2/model-zoo';
import { Piscina } from 'piscina';
import { tsxExecArgv } from '../tsx-loader.js';
import type { CellTask, SweepWorkerData, WarmupTask } from './sweep-worker.js';
import type { CellOutcome } from './train-cell.js';

/** Runs cells somewhere: a pool of worker threads here; a queue of remote workers could be another. */
export interface CellRunner {
  /** How many cells it runs at once. */
  readonly concurrency: number;
  /** Start-up (threads, backends, data modules) before the first cell; optional. */
  ready?(warmup: WarmupTask['warmup']): Promise<void>;
  run(task: CellTask): Promise<CellOutcome>;
  close(): Promise<void>;
}

const WORKER_URL = new URL(`./sweep-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/**
 * `workers` worker threads, each with its own TF.js backend (`backend`, or
 * the default choice of initBackend). Each runs one cell at a time.
 */
export function createSweepPool(options: { workers: number; backend?: string }): CellRunner {
  // For library callers (the CLI has done this already): the threads share one libtensorflow.
  configureNativeThreads({ workers: options.workers });
  const workerData: SweepWorkerData = { backend: options.backend };
  const pool = new Piscina<CellTask | WarmupTask, CellOutcome | null>({
    filename: WORKER_URL.href,
    minThreads: options.workers,
    maxThreads: options.workers,
    concurrentTasksPerWorker: 1,
    idleTimeout: Number.POSITIVE_INFINITY,
    workerData,
    execArgv: tsxExecArgv(WORKER_URL),
  });
  return {
    concurrency: options.workers,
    // One warm-up task per thread, held at a barrier until every thread has one.
    ready: async (warmup) => {
      const barrier = { arrived: new SharedArrayBuffer(4), parties: options.workers };
      await Promise.all(Array.from({ length: options.workers }, () => pool.run({ warmup, barrier })));
    },
    run: async (task) => (await pool.run(task)) as CellOutcome,
    close: () => pool.destroy(),
  };
}
