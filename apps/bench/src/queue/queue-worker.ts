// A machine's share of a queued sweep: BullMQ hands out jobs, the sweep's own
// worker-thread pool trains them, so a cell runs exactly as in a local sweep.
import { type Job, type JobJsonRaw, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { type CellRunner, createSweepPool } from '../sweep/sweep-pool.js';
import type { CellOutcome } from '../sweep/train-cell.js';
import { type CellJobData, parseCellJob } from './cell-job.js';
import type { QueueAddress } from './queue-address.js';
import { QueueError } from './queue-error.js';
import {
  checkRedis,
  clearHeartbeat,
  HEARTBEAT_SECONDS,
  MAX_ATTEMPTS,
  QUEUE_PREFIX,
  redisClient,
  sendHeartbeat,
  workerId,
} from './sweep-queue.js';

/** BullMQ's own defaults: a killed worker's cell is started elsewhere within about a minute. */
export const DEFAULT_LOCK_DURATION_SECONDS = 30;
export const DEFAULT_STALLED_INTERVAL_SECONDS = 30;

export interface QueueWorkerOptions {
  /** Cells run at once, each in its own worker thread (default 1). */
  readonly concurrency?: number;
  /** TF.js backend of every thread (default: initBackend's choice). */
  readonly backend?: string;
  /** Where this machine keeps fashion-mnist / cifar10. */
  readonly dataDir?: string;
  /** --rule-module specs of rules this machine has but has not installed (absolute paths or package names). */
  readonly ruleModules?: readonly string[];
  /** How long a job's lock lasts without renewal (renewed every half of it): a dead worker's job is free again after this. */
  readonly lockDurationSeconds?: number;
  /** How often workers look for jobs whose lock ran out and put them back on the queue. */
  readonly stalledIntervalSeconds?: number;
  /** What happens, for a log. */
  readonly onEvent?: (event: QueueWorkerEvent) => void;
}

export type QueueWorkerEvent =
  | { readonly kind: 'ready'; readonly id: string; readonly concurrency: number }
  | { readonly kind: 'started'; readonly jobId: string; readonly attempt: number }
  | { readonly kind: 'finished'; readonly jobId: string; readonly outcome: CellOutcome }
  | { readonly kind: 'failed'; readonly jobId: string; readonly error: string; readonly final: boolean }
  | { readonly kind: 'error'; readonly error: string };

export interface QueueWorker {
  /** host:pid; BullMQ records it as the processedBy of the jobs this worker takes. */
  readonly id: string;
  /**
   * Stops taking jobs, lets the running ones finish (unless `force`: then they
   * are dropped and, their lock running out, retried by another worker), and
   * shuts the threads down.
   */
  close(options?: { force?: boolean }): Promise<void>;
  /** Settles when the worker has stopped. */
  readonly stopped: Promise<void>;
}

/** Job data as read from Redis; `unparsable` when it was not JSON (see CellWorker.createJob). */
type ReceivedJob = Job<CellJobData | undefined, CellOutcome> & { unparsable?: string };

/**
 * BullMQ parses a job's data while taking the job, before any processor runs:
 * data that is not JSON would throw there, leave the job locked and unprocessed,
 * and bring it back after every stall. Here it becomes a job the processor refuses.
 */
class CellWorker extends Worker<CellJobData | undefined, CellOutcome> {
  protected override createJob(raw: JobJsonRaw, jobId: string): Job<CellJobData | undefined, CellOutcome> {
    try {
      return super.createJob(raw, jobId);
    } catch (error) {
      const job: ReceivedJob = super.createJob({ ...raw, data: 'null' }, jobId);
      job.unparsable = `${(error as Error).message}; data begins ${JSON.stringify(String(raw.data).slice(0, 60))}`;
      return job;
    }
  }
}

function positiveSeconds(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new QueueError(`${name} must be a positive number of seconds, got ${value}.`);
  return value;
}

/**
 * Starts a worker on the queue at `address`: checks the server, starts and
 * warms `concurrency` worker threads, then takes jobs until closed. A payload
 * that is not a valid cell fails its job at once (no retry) with what is wrong;
 * a job started more often than its attempts allow (its workers died under it)
 * is failed instead of run again.
 */
export async function startQueueWorker(address: QueueAddress, options: QueueWorkerOptions = {}): Promise<QueueWorker> {
  const concurrency = options.concurrency ?? 1;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new QueueError(`concurrency must be a positive integer, got ${concurrency}.`);
  }
  const lockDuration = positiveSeconds('lock duration', options.lockDurationSeconds ?? DEFAULT_LOCK_DURATION_SECONDS);
  const stalledInterval = positiveSeconds(
    'stalled interval',
    options.stalledIntervalSeconds ?? DEFAULT_STALLED_INTERVAL_SECONDS,
  );
  const emit = options.onEvent ?? (() => {});
  await checkRedis(address);
  const id = workerId();
  const pool: CellRunner = createSweepPool({ workers: concurrency, backend: options.backend });
  let running = 0;
  let worker: CellWorker | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let client: Redis | undefined;
  try {
    // Which data sets the cells want is not known yet; loading the embedded MNIST once brings in the loader's modules.
    await pool.ready?.({ datasets: ['mnist'], limit: 64, ruleModules: options.ruleModules });
    worker = new CellWorker(
      address.name,
      async (job: ReceivedJob) => {
        if (job.unparsable !== undefined) {
          throw new UnrecoverableError(`job ${job.id}: the payload is not JSON (${job.unparsable}).`);
        }
        let config: CellJobData['config'];
        try {
          config = parseCellJob(job.id, job.data);
        } catch (error) {
          throw new UnrecoverableError((error as Error).message);
        }
        const attempts = job.opts.attempts ?? 1;
        if (job.attemptsStarted > attempts) {
          throw new UnrecoverableError(
            `job ${job.id} was started ${job.attemptsStarted} times, more than its ${attempts} attempts; ` +
              'the workers running it died or lost Redis each time' +
              (job.failedReason ? ` (last error: ${job.failedReason})` : ''),
          );
        }
        emit({ kind: 'started', jobId: String(job.id), attempt: job.attemptsStarted });
        running += 1;
        try {
          return await pool.run({
            config,
            ...(options.dataDir !== undefined && { dataDir: options.dataDir }),
            ...(options.ruleModules !== undefined && { ruleModules: options.ruleModules }),
          });
        } finally {
          running -= 1;
        }
      },
      {
        name: id,
        connection: { ...address.connection },
        prefix: QUEUE_PREFIX,
        concurrency,
        autorun: false,
        lockDuration: lockDuration * 1000,
        stalledInterval: stalledInterval * 1000,
        // Stalls count against the job's own attempts (checked above), not against BullMQ's separate limit.
        maxStalledCount: MAX_ATTEMPTS,
      },
    );
    worker.on('completed', (job, outcome) => emit({ kind: 'finished', jobId: String(job.id), outcome }));
    worker.on('failed', (job, error) => {
      if (job === undefined) return;
      const final =
        error instanceof UnrecoverableError ||
        error.name === 'UnrecoverableError' ||
        job.attemptsMade >= (job.opts.attempts ?? 1);
      emit({ kind: 'failed', jobId: String(job.id), error: error.message, final });
    });
    worker.on('error', (error) => emit({ kind: 'error', error: error.message }));
    const beatClient = redisClient(address);
    client = beatClient;
    const beat = () =>
      sendHeartbeat(beatClient, address.name, {
        id,
        host: id.slice(0, id.lastIndexOf(':')),
        pid: process.pid,
        concurrency,
        running,
        backend: options.backend ?? null,
      }).catch((error: Error) => emit({ kind: 'error', error: `heartbeat: ${error.message}` }));
    await worker.waitUntilReady();
    await beat();
    heartbeat = setInterval(beat, HEARTBEAT_SECONDS * 1000);
  } catch (error) {
    clearInterval(heartbeat);
    await worker?.close(true);
    client?.disconnect();
    await pool.close();
    throw error;
  }
  const started = worker;
  const beatClient = client as Redis;
  const stopped = started.run().then(() => {});
  emit({ kind: 'ready', id, concurrency });
  let closing: Promise<void> | undefined;
  return {
    id,
    stopped,
    close: (closeOptions = {}) => {
      closing ??= (async () => {
        clearInterval(heartbeat);
        await started.close(closeOptions.force ?? false);
        await clearHeartbeat(beatClient, address.name, id).catch(() => {});
        beatClient.disconnect();
        await pool.close();
      })();
      return closing;
    },
  };
}
