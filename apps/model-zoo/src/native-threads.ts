import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';

export interface NativeThreads {
  readonly intraOp: string;
  readonly interOp: string;
  /** TF_ONEDNN_THREADPOOL_USE_CALLER_THREAD: whether oneDNN's kernels work on the thread that runs the op too. */
  readonly onednnCallerThread: string;
  /** False when this thread had already loaded tfjs-node, or the user set both: nothing was changed. */
  readonly changed: boolean;
}

/**
 * libtensorflow's thread counts for a process that runs `workers` trainings at once (worker
 * threads), set in the environment before tfjs-node loads: it reads them once per process.
 * Its intra-op pool is one per process, shared by all worker threads, and an op's own thread
 * works alongside the pool (TF_NUM_INTRAOP_THREADS = N gives N − 1 pool threads), so
 * N = cores − workers + 1 keeps exactly one busy thread per core: two workers on two cores get
 * N = 1, each computing its own ops, instead of four threads fighting over two cores. Every
 * worker thread also gets an inter-op pool, idle under TF.js's eager, synchronous ops: one thread.
 * oneDNN's kernels (matMul, conv) otherwise hand all their work to the pool and wait: with
 * TF_ONEDNN_THREADPOOL_USE_CALLER_THREAD the calling thread takes one share (TensorFlow applies it
 * only when the pool has one thread per core), which on 2 cores made the MLP's matMuls 0–11% faster
 * than without it and the SGD step 12% faster (docs/performance-log.md).
 * A value the user set is kept; so is everything once libtensorflow is loaded (too late).
 */
export function configureNativeThreads(options: { workers?: number; cores?: number } = {}): NativeThreads {
  const cores = options.cores ?? availableParallelism();
  const workers = Math.max(1, Math.min(options.workers ?? 1, cores));
  // tfjs-node registers the 'tensorflow' backend as it loads, and libtensorflow has read the environment by then.
  const loaded = tf.findBackendFactory('tensorflow') !== null;
  let changed = false;
  if (!loaded) {
    if (process.env.TF_NUM_INTRAOP_THREADS === undefined) {
      process.env.TF_NUM_INTRAOP_THREADS = String(cores - workers + 1);
      changed = true;
    }
    if (process.env.TF_NUM_INTEROP_THREADS === undefined) {
      process.env.TF_NUM_INTEROP_THREADS = '1';
      changed = true;
    }
    if (process.env.TF_ONEDNN_THREADPOOL_USE_CALLER_THREAD === undefined) {
      process.env.TF_ONEDNN_THREADPOOL_USE_CALLER_THREAD = 'true';
      changed = true;
    }
    // Hides TensorFlow's INFO and WARNING lines once it runs (not the one notice printed as it loads).
    process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  }
  return {
    intraOp: process.env.TF_NUM_INTRAOP_THREADS as string,
    interOp: process.env.TF_NUM_INTEROP_THREADS as string,
    onednnCallerThread: process.env.TF_ONEDNN_THREADPOOL_USE_CALLER_THREAD as string,
    changed,
  };
}
