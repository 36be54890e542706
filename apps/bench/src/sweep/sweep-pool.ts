import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
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
 * The worker's Node flags. From TypeScript source the worker needs tsx's
 * loader; a parent started by tsx passes it on by itself, one started
 * otherwise (vitest) does not, so it is added here.
 */
function workerExecArgv(): string[] {
  const inherited = process.execArgv;
  if (!WORKER_URL.pathname.endsWith('.ts') || inherited.some((flag) => flag.includes('tsx'))) return inherited;
  const loader = createRequire(import.meta.url).resolve('tsx');
  return [...inherited, '--import', pathToFileURL(loader).href];
}

/**
 * `workers` worker threads, each with its own TF.js backend (`backend`, or
 * the default choice of initBackend). Each runs one cell at a time.
 */
export function createSweepPool(options: { workers: number; backend?: string }): CellRunner {
  const workerData: SweepWorkerData = { backend: options.backend };
  const pool = new Piscina<CellTask | WarmupTask, CellOutcome | null>({
    filename: WORKER_URL.href,
    minThreads: options.workers,
    maxThreads: options.workers,
    concurrentTasksPerWorker: 1,
    idleTimeout: Number.POSITIVE_INFINITY,
    workerData,
    execArgv: workerExecArgv(),
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
