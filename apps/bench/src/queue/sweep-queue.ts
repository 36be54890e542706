// The queue of a sweep on Redis: cells in as BullMQ jobs, outcomes out as their return values.
import { hostname } from 'node:os';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { SweepCell } from '../sweep/grid.js';
import type { SweepRow } from '../sweep/results-log.js';
import { rowOfOutcome } from '../sweep/train-cell.js';
import { CELL_JOB_NAME, type CellJobData, cellJobData, cellJobId, isCellOutcome } from './cell-job.js';
import type { QueueAddress } from './queue-address.js';
import { QueueError } from './queue-error.js';

/** BullMQ's key prefix: a queue NAME lives under mup2:NAME:…, apart from other BullMQ users of the server. */
export const QUEUE_PREFIX = 'mup2';
/** How often a worker says it is alive; status counts a worker seen within three of these. */
export const HEARTBEAT_SECONDS = 5;
/** What --attempts defaults to: how many times a cell is started (its worker died, or the run threw) before it is failed. */
export const DEFAULT_ATTEMPTS = 3;
/** The largest --attempts: workers let a job stall this often before BullMQ itself would fail it. */
export const MAX_ATTEMPTS = 100;

const heartbeatPrefix = (name: string) => `${QUEUE_PREFIX}-workers:${name}:`;

/**
 * Connects once with no retry, so that a wrong host, port or password is an
 * error now instead of a silent wait. Throws a QueueError naming the server
 * and what it said.
 */
export async function checkRedis(address: QueueAddress, timeoutSeconds = 10): Promise<void> {
  const client = new Redis({
    ...address.connection,
    lazyConnect: true,
    connectTimeout: timeoutSeconds * 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  let lastError: Error | undefined;
  client.on('error', (error: Error) => {
    lastError = error;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    const reason = (lastError ?? (error as Error)).message.replace(/\.$/, '');
    const hint = /NOAUTH|WRONGPASS|invalid password|AUTH/i.test(reason)
      ? '; give the password in the URL, with --redis-password or in REDIS_PASSWORD'
      : '';
    throw new QueueError(`cannot use Redis at ${address.display}: ${reason}${hint}.`);
  } finally {
    client.disconnect();
  }
}

/** A sweep's queue, open for submitting, collecting or watching. */
export interface SweepQueue {
  readonly address: QueueAddress;
  readonly queue: Queue<CellJobData>;
  /** A plain client of the same server, for what BullMQ does not do (raw job fields, worker heartbeats). */
  readonly client: Redis;
  close(): Promise<void>;
}

/** A client that reconnects after an outage, for as long as it is open. */
export function redisClient(address: QueueAddress): Redis {
  const client = new Redis({ ...address.connection, maxRetriesPerRequest: null });
  // Failures reach the callers of its commands; the event alone would throw.
  client.on('error', () => {});
  return client;
}

/** Checks the server (checkRedis), then opens the queue. */
export async function openSweepQueue(address: QueueAddress): Promise<SweepQueue> {
  await checkRedis(address);
  const queue = new Queue<CellJobData>(address.name, { connection: { ...address.connection }, prefix: QUEUE_PREFIX });
  // An 'error' event without a listener would throw; failed commands reject where they were called anyway.
  queue.on('error', () => {});
  await queue.waitUntilReady();
  const client = redisClient(address);
  return {
    address,
    queue,
    client,
    close: async () => {
      await queue.close();
      client.disconnect();
    },
  };
}

/** Runs `task` on every item, `width` at a time (ioredis pipelines what is in flight on its one connection). */
async function inChunks<T, R>(items: readonly T[], task: (item: T) => Promise<R>, width = 256): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += width) {
    results.push(...(await Promise.all(items.slice(start, start + width).map(task))));
  }
  return results;
}

export interface SubmitResult {
  /** Cells put on the queue by this call. */
  readonly added: number;
  /** Cells whose job was there already (waiting, running, done or failed). */
  readonly present: number;
}

/**
 * Enqueues each cell as a job named after its config hash (cellJobId), unless
 * a job of that id is there already: submitting twice adds nothing, and two
 * submitters racing add each job once (BullMQ ignores a second add of an id).
 */
export async function submitCells(
  sweepQueue: SweepQueue,
  cells: readonly SweepCell[],
  options: { attempts?: number } = {},
): Promise<SubmitResult> {
  const attempts = options.attempts ?? DEFAULT_ATTEMPTS;
  if (!Number.isSafeInteger(attempts) || attempts < 1 || attempts > MAX_ATTEMPTS) {
    throw new QueueError(`attempts must be an integer from 1 to ${MAX_ATTEMPTS}, got ${attempts}.`);
  }
  const { queue } = sweepQueue;
  const states = await inChunks(cells, (cell) => queue.getJobState(cellJobId(cell.id)));
  const missing = cells.filter((_, index) => states[index] === 'unknown');
  for (let start = 0; start < missing.length; start += 500) {
    await queue.addBulk(
      missing.slice(start, start + 500).map((cell) => ({
        name: CELL_JOB_NAME,
        data: cellJobData(cell.config),
        opts: {
          jobId: cellJobId(cell.id),
          attempts,
          backoff: { type: 'fixed', delay: 1000 },
          // Kept: the return value is the result until collected, and a kept id keeps a resubmission from running the cell again.
          removeOnComplete: false,
          removeOnFail: false,
        },
      })),
    );
  }
  return { added: missing.length, present: cells.length - missing.length };
}

export interface CollectCounts {
  /** Cells not finished yet: on the queue, waiting, retrying or running. */
  readonly pending: number;
  /** Cells with no job on the queue (never submitted there, or removed from it). */
  readonly missing: number;
}

/** The members of a finished job that its row is made of, read raw: a job whose data is damaged still gives its outcome. */
interface FinishedJob {
  readonly returnvalue: unknown;
  readonly failedReason: string;
  readonly attemptsStarted: number;
  readonly seconds: number;
}

async function readFinishedJob(sweepQueue: SweepQueue, jobId: string): Promise<FinishedJob | undefined> {
  const { queue, client } = sweepQueue;
  const [returnvalue, failedReason, started, processedOn, finishedOn] = await client.hmget(
    queue.toKey(jobId),
    'returnvalue',
    'failedReason',
    'ats',
    'processedOn',
    'finishedOn',
  );
  if (finishedOn === null || finishedOn === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = returnvalue === null || returnvalue === undefined ? null : JSON.parse(returnvalue);
  } catch {
    parsed = returnvalue;
  }
  return {
    returnvalue: parsed,
    failedReason: failedReason ?? '(no reason recorded)',
    attemptsStarted: Number(started ?? 0),
    seconds:
      processedOn === null || processedOn === undefined
        ? 0
        : Math.max(0, Number(finishedOn) - Number(processedOn)) / 1000,
  };
}

/** The row of a cell whose job failed for good (its worker died too often, its run threw, its payload was refused). */
function rowOfFailedJob(cell: SweepCell, job: FinishedJob, reason = job.failedReason): SweepRow {
  return rowOfOutcome(cell, {
    status: 'failed',
    finalTestAccuracy: null,
    bestTestAccuracy: null,
    finalTrainAccuracy: null,
    trainLoss: null,
    seconds: job.seconds,
    backend: null,
    error: `queue: job failed after ${job.attemptsStarted} start(s): ${reason}`,
  });
}

/**
 * Reads the finished jobs of `cells` and hands each one's row to `write`
 * (a completed job gives the row its worker computed, a failed one a 'failed'
 * row with the job's error). Cells still on their way are counted, not written.
 */
export async function collectCells(
  sweepQueue: SweepQueue,
  cells: readonly SweepCell[],
  write: (row: SweepRow) => Promise<void>,
): Promise<CollectCounts> {
  const { queue } = sweepQueue;
  let pending = 0;
  let missing = 0;
  const rows = await inChunks(cells, async (cell): Promise<SweepRow | undefined> => {
    const state = await queue.getJobState(cellJobId(cell.id));
    if (state === 'unknown') {
      missing += 1;
      return undefined;
    }
    const job =
      state === 'completed' || state === 'failed' ? await readFinishedJob(sweepQueue, cellJobId(cell.id)) : undefined;
    if (job === undefined) {
      pending += 1;
      return undefined;
    }
    if (state === 'failed') return rowOfFailedJob(cell, job);
    if (!isCellOutcome(job.returnvalue)) {
      const returned = JSON.stringify(job.returnvalue)?.slice(0, 80);
      return rowOfFailedJob(
        cell,
        job,
        `its worker returned no cell outcome (${returned}); is it another version of bench?`,
      );
    }
    return rowOfOutcome(cell, job.returnvalue);
  });
  // Written in grid order, one at a time: the log is one file.
  for (const row of rows) if (row !== undefined) await write(row);
  return { pending, missing };
}

/** What a worker writes about itself every HEARTBEAT_SECONDS. */
export interface WorkerBeat {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly concurrency: number;
  readonly running: number;
  readonly backend: string | null;
}

/** A worker id: host:pid, which is also what BullMQ records as the job's processedBy. */
export function workerId(): string {
  return `${hostname()}:${process.pid}`;
}

/** Says `beat` is alive for three heartbeats (a key with a time to live: no clocks to compare across machines). */
export async function sendHeartbeat(client: Redis, queueName: string, beat: WorkerBeat): Promise<void> {
  await client.set(`${heartbeatPrefix(queueName)}${beat.id}`, JSON.stringify(beat), 'EX', 3 * HEARTBEAT_SECONDS);
}

export async function clearHeartbeat(client: Redis, queueName: string, id: string): Promise<void> {
  await client.del(`${heartbeatPrefix(queueName)}${id}`);
}

/** The workers that sent a heartbeat within the last three heartbeats. */
export async function liveWorkers(sweepQueue: SweepQueue): Promise<WorkerBeat[]> {
  const { client, queue } = sweepQueue;
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await client.scan(cursor, 'MATCH', `${heartbeatPrefix(queue.name)}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  if (keys.length === 0) return [];
  const values = await client.mget(...keys);
  return values.flatMap((value) => {
    try {
      return value === null ? [] : [JSON.parse(value) as WorkerBeat];
    } catch {
      return [];
    }
  });
}

export interface QueueStatus {
  /** Jobs not started yet (waiting, or waiting out a retry's back-off). */
  readonly waiting: number;
  readonly active: number;
  /** Jobs completed (their cell may still be 'failed' or 'diverged' in its row). */
  readonly done: number;
  /** Jobs failed for good. */
  readonly failed: number;
  readonly workers: WorkerBeat[];
  /** Cells the live workers run at once. */
  readonly threads: number;
  /** Mean time of the last (up to) 100 completed jobs, from start to finish. */
  readonly meanSeconds: number | null;
  readonly finishedSampled: number;
  /** Time left for the waiting and running jobs at the live workers' pace; null without a finished job or a live worker. */
  readonly etaSeconds: number | null;
}

export async function queueStatus(sweepQueue: SweepQueue): Promise<QueueStatus> {
  const { queue } = sweepQueue;
  const counts = await queue.getJobCounts(
    'waiting',
    'delayed',
    'prioritized',
    'paused',
    'waiting-children',
    'active',
    'completed',
    'failed',
  );
  const waiting =
    (counts.waiting ?? 0) +
    (counts.delayed ?? 0) +
    (counts.prioritized ?? 0) +
    (counts.paused ?? 0) +
    (counts['waiting-children'] ?? 0);
  const active = counts.active ?? 0;
  const finished = await queue.getCompleted(0, 99);
  const durations = finished.flatMap((job) =>
    job.finishedOn !== undefined && job.processedOn !== undefined ? [(job.finishedOn - job.processedOn) / 1000] : [],
  );
  const meanSeconds = durations.length > 0 ? durations.reduce((sum, value) => sum + value, 0) / durations.length : null;
  const workers = await liveWorkers(sweepQueue);
  const threads = workers.reduce((sum, worker) => sum + worker.concurrency, 0);
  // A running job is, on average, half done.
  const etaSeconds =
    meanSeconds !== null && threads > 0
      ? ((waiting + active / 2) * meanSeconds) / threads
      : waiting + active === 0
        ? 0
        : null;
  return {
    waiting,
    active,
    done: counts.completed ?? 0,
    failed: counts.failed ?? 0,
    workers,
    threads,
    meanSeconds,
    finishedSampled: durations.length,
    etaSeconds,
  };
}
