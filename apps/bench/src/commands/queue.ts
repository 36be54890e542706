import { isAbsolute, join, resolve } from 'node:path';
import {
  absoluteRuleModules,
  addRuleModuleOption,
  handleInterrupts,
  progressBar,
  progressStream,
} from '@mup2/model-zoo';
import { type Command, InvalidArgumentError } from 'commander';
import { positiveInteger } from '../cli-options.js';
import { parseQueueAddress, type QueueAddress } from '../queue/queue-address.js';
import {
  DEFAULT_LOCK_DURATION_SECONDS,
  DEFAULT_STALLED_INTERVAL_SECONDS,
  type QueueWorkerEvent,
  startQueueWorker,
} from '../queue/queue-worker.js';
import { collectSweep, type QueuedSweepProgress, type QueuedSweepSummary, submitSweep } from '../queue/queued-sweep.js';
import { DEFAULT_ATTEMPTS, MAX_ATTEMPTS, openSweepQueue, type QueueStatus, queueStatus } from '../queue/sweep-queue.js';
import { userDirectory } from '../results-dir.js';
import type { SweepGrid } from '../sweep/grid.js';

const QUEUE_HELP =
  'redis://[user:password@]host[:port][/db]/NAME (rediss:// for TLS), or a bare NAME on the server in REDIS_URL';
const PASSWORD_HELP = 'Redis password (else the URL’s, else REDIS_PASSWORD; the environment keeps it out of ps)';

/** Flags that every queue command takes. */
interface RedisFlags {
  queue: string;
  redisPassword?: string;
}

const fromUser = (path: string) => (isAbsolute(path) ? path : resolve(userDirectory(), path));
const addressOf = (flags: RedisFlags): QueueAddress =>
  parseQueueAddress(flags.queue, flags.redisPassword !== undefined ? { password: flags.redisPassword } : {});

function positiveSeconds(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed <= 0) {
    throw new InvalidArgumentError(`expected a positive number of seconds, got '${value}'.`);
  }
  return parsed;
}

function attemptsOption(value: string): number {
  const parsed = positiveInteger(value);
  if (parsed > MAX_ATTEMPTS) throw new InvalidArgumentError(`expected at most ${MAX_ATTEMPTS}, got '${value}'.`);
  return parsed;
}

/** 1h02m, 3m05s, 12s. */
function formatDuration(seconds: number): string {
  const whole = Math.round(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = whole % 60;
  if (hours > 0) return `${hours}h${String(minutes).padStart(2, '0')}m`;
  if (minutes > 0) return `${minutes}m${String(rest).padStart(2, '0')}s`;
  return `${rest}s`;
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

// ---- bench sweep --queue -------------------------------------------------

/** What `bench sweep` takes besides the grid when its cells go to a queue. */
export interface QueueSweepFlags {
  queue?: string;
  redisPassword?: string;
  wait?: boolean;
  attempts?: number;
}

/** The flags of `bench sweep` that send its cells to a queue instead of local worker threads. */
export function addQueueSweepOptions(command: Command): void {
  command
    .option(
      '--queue <url>',
      `send the cells to this queue (workers: bench worker) instead of local threads: ${QUEUE_HELP}`,
    )
    .option(
      '--wait',
      'with --queue: wait for every cell and write rows as they finish (default: return once enqueued; bench collect writes them)',
    )
    .option(
      '--attempts <n>',
      `with --queue: starts of a cell (its worker died, or its run threw) before it is recorded as failed (default ${DEFAULT_ATTEMPTS})`,
      attemptsOption,
    )
    .option('--redis-password <password>', `with --queue: ${PASSWORD_HELP}`);
}

function queueProgressBar() {
  const bar = progressBar({
    label: 'queue',
    format: '{value}/{total} cells | on the queue {pending} | failed {failed} | diverged {diverged}',
  });
  let started = false;
  return {
    update(progress: QueuedSweepProgress) {
      const payload = { pending: progress.pending, failed: progress.failed, diverged: progress.diverged };
      if (!started) bar.start(progress.total, progress.collected, payload);
      else bar.update(progress.collected, payload);
      started = true;
    },
    stop: () => bar.stop(),
  };
}

function summaryLines(summary: QueuedSweepSummary): string {
  const failed = summary.rows.filter((row) => row.status === 'failed');
  const diverged = summary.rows.filter((row) => row.status === 'diverged').length;
  return (
    `  ${summary.rows.length} of ${summary.total} cells have a row (${summary.collected} written now; ` +
    `${summary.rows.length - failed.length - diverged} ok, ${diverged} diverged, ${failed.length} failed)` +
    `${summary.pending > 0 ? `; ${summary.pending} still on the queue` : ''}` +
    `${summary.missing > 0 ? `; ${summary.missing} not on the queue (submit them again with bench sweep --queue)` : ''}\n` +
    failed
      .slice(0, 5)
      .map((row) => `  failed ${row.cellId} ${JSON.stringify(row.config)}: ${row.error}\n`)
      .join('') +
    (failed.length > 5 ? `  … and ${failed.length - 5} more failed cells (see results.jsonl)\n` : '')
  );
}

/** `bench sweep --queue`: enqueue the cells the folder lacks; with --wait, collect until all have a row. */
export async function runQueuedSweep(
  grid: SweepGrid,
  out: string,
  flags: QueueSweepFlags & { queue: string; dataDir?: string },
): Promise<void> {
  const address = addressOf(flags);
  if (flags.dataDir !== undefined) {
    process.stderr.write('note: with --queue, each worker reads the data sets from its own --data-dir\n');
  }
  // With --wait, Ctrl-C stops waiting (the rows collected so far are written, the folder released, exit 130).
  const interrupts = flags.wait
    ? handleInterrupts({
        first: 'stopped waiting; the workers go on (bench status to watch, bench collect to collect)',
        again: 'quitting now',
      })
    : undefined;
  const bar = queueProgressBar();
  let summary: QueuedSweepSummary;
  try {
    summary = await submitSweep(grid, {
      address,
      out,
      wait: flags.wait ?? false,
      ...(flags.attempts !== undefined && { attempts: flags.attempts }),
      ...(interrupts !== undefined && { signal: interrupts.signal }),
      onProgress: (progress) => bar.update(progress),
      onRetry: (error) => process.stderr.write(`\ncollecting failed (${error.message}); trying again\n`),
    });
  } finally {
    bar.stop();
    interrupts?.dispose();
  }
  const complete = summary.rows.length === summary.total;
  process.stdout.write(
    `\nSweep ${summary.hash.slice(0, 8)} on ${address.display}: ${summary.total} cells, ${summary.skipped} had a row before, ` +
      `${summary.added} enqueued now, ${summary.present} on the queue already (${summary.seconds.toFixed(1)} s)\n` +
      summaryLines(summary) +
      `Results: ${join(out, 'results.jsonl')}\n` +
      (complete
        ? ''
        : `${address.hasPassword ? 'With REDIS_PASSWORD set, s' : 'S'}tart workers:  pnpm bench worker --queue ${address.withoutPassword}\n` +
          `Watch:          pnpm bench status --queue ${address.withoutPassword}\n` +
          `Collect:        pnpm bench collect --queue ${address.withoutPassword} ${out}\n`),
  );
  if (interrupts?.exitCode !== undefined) process.exitCode = interrupts.exitCode;
  // Waited, yet cells are left: their jobs are gone from the queue.
  else if (flags.wait && !complete) process.exitCode = 1;
}

// ---- bench worker / status / collect -------------------------------------

interface WorkerFlags extends RedisFlags {
  concurrency: number;
  backend?: string;
  dataDir?: string;
  ruleModule?: string[];
  lockDuration: number;
  stalledInterval: number;
}

const stamp = () => new Date().toISOString().slice(11, 19);

/**
 * One line per event, with the count of cells this worker finished; a Redis error repeated while the
 * server is away is printed once a minute. Lines go where progress goes (stdout when it is not a terminal).
 */
function workerLog(): (event: QueueWorkerEvent) => void {
  let lastError = '';
  let lastErrorAt = 0;
  let finished = 0;
  const stream = progressStream();
  return (event) => {
    const line = (text: string) => stream.write(`[${stamp()}] ${text}\n`);
    switch (event.kind) {
      case 'ready':
        line(`worker ${event.id} ready: ${plural(event.concurrency, 'thread')}, waiting for cells`);
        return;
      case 'started':
        line(`${event.jobId} started${event.attempt > 1 ? ` (start ${event.attempt})` : ''}`);
        return;
      case 'finished': {
        const outcome = event.outcome;
        const accuracy =
          outcome.finalTestAccuracy === null ? '' : `, test accuracy ${outcome.finalTestAccuracy.toFixed(4)}`;
        finished += 1;
        line(
          `${event.jobId} ${outcome.status} in ${outcome.seconds.toFixed(1)} s${accuracy}${outcome.error ? `: ${outcome.error}` : ''} ` +
            `(${finished} cell${finished === 1 ? '' : 's'} done by this worker)`,
        );
        return;
      }
      case 'failed':
        line(`${event.jobId} job failed${event.final ? '' : ' (to be retried)'}: ${event.error}`);
        return;
      case 'error': {
        const now = Date.now();
        if (event.error === lastError && now - lastErrorAt < 60_000) return;
        lastError = event.error;
        lastErrorAt = now;
        line(`error: ${event.error} (retrying)`);
        return;
      }
    }
  };
}

function statusText(address: QueueAddress, status: QueueStatus): string {
  const workers = status.workers
    .map((worker) => `${worker.id} (${plural(worker.concurrency, 'thread')}, ${worker.running} running)`)
    .join(', ');
  const eta =
    status.etaSeconds !== null
      ? formatDuration(status.etaSeconds)
      : status.threads === 0
        ? 'unknown (no worker seen)'
        : 'unknown (no cell finished yet)';
  return (
    `queue ${address.name} on ${address.display}\n` +
    `  waiting ${status.waiting} | active ${status.active} | done ${status.done} | failed ${status.failed}\n` +
    `  workers: ${plural(status.workers.length, 'worker')} seen in the last 15 s, ${plural(status.threads, 'thread')}${workers ? `: ${workers}` : ''}\n` +
    `  mean cell time ${status.meanSeconds === null ? '–' : `${status.meanSeconds.toFixed(1)} s`}` +
    `${status.finishedSampled > 0 ? ` (last ${status.finishedSampled} done)` : ''}; ETA ${eta}\n`
  );
}

export function registerQueueCommands(program: Command): void {
  const workerCommand = program
    .command('worker')
    .description(
      'Run the cells of a queue (filled by bench sweep --queue) until stopped, on as many machines as you like: each ' +
        'takes a cell, trains it in one of its worker threads exactly as a local sweep does, and leaves the outcome on ' +
        'the queue for bench collect. A worker that dies has its cell started again by another. Ctrl-C (or SIGTERM) ' +
        'finishes the running cells and stops; twice stops at once. Connects out to Redis only; listens on nothing.',
    )
    .requiredOption('--queue <url>', QUEUE_HELP)
    .option('--concurrency <n>', 'cells trained at once, each in its own worker thread', positiveInteger, 1)
    .option('--backend <name>', 'TF.js backend of every thread (default: tensorflow if installed, else wasm, else cpu)')
    .option('--data-dir <dir>', 'where this machine keeps fashion-mnist / cifar10')
    .option(
      '--lock-duration <seconds>',
      'a cell’s lock, renewed every half of it while it runs: a dead worker’s cell is free again after this',
      positiveSeconds,
      DEFAULT_LOCK_DURATION_SECONDS,
    )
    .option(
      '--stalled-interval <seconds>',
      'how often workers put cells whose lock ran out back on the queue',
      positiveSeconds,
      DEFAULT_STALLED_INTERVAL_SECONDS,
    )
    .option('--redis-password <password>', PASSWORD_HELP);
  // A job names its rule; the worker must have it installed, or load it from here.
  addRuleModuleOption(workerCommand);
  workerCommand.action(async (flags: WorkerFlags) => {
    const address = addressOf(flags);
    process.stderr.write(`worker on ${address.display}: starting ${plural(flags.concurrency, 'thread')}…\n`);
    const worker = await startQueueWorker(address, {
      concurrency: flags.concurrency,
      ...(flags.backend !== undefined && { backend: flags.backend }),
      ...(flags.dataDir !== undefined && { dataDir: fromUser(flags.dataDir) }),
      ...(flags.ruleModule !== undefined && { ruleModules: absoluteRuleModules(flags.ruleModule, userDirectory()) }),
      lockDurationSeconds: flags.lockDuration,
      stalledIntervalSeconds: flags.stalledInterval,
      onEvent: workerLog(),
    });
    const interrupts = handleInterrupts({
      first: 'finishing the running cells, then stopping (again to stop now)',
      again: 'stopping now; the running cells go back to the queue when their lock runs out',
    });
    interrupts.signal.addEventListener('abort', () => void worker.close());
    await worker.stopped;
    await worker.close();
    interrupts.dispose();
    process.stderr.write(`[${stamp()}] worker ${worker.id} stopped\n`);
    // Ctrl-C exits 130 as any interrupted command; SIGTERM, how a service manager stops a worker, is a clean stop (0).
    if (interrupts.exitCode !== undefined && interrupts.exitCode !== 143) process.exitCode = interrupts.exitCode;
  });

  program
    .command('status')
    .description(
      'Counts of a queue’s cells (waiting, active, done, failed), the workers seen in the last 15 s, and an ETA from ' +
        'the mean time of finished cells and the workers’ threads.',
    )
    .requiredOption('--queue <url>', QUEUE_HELP)
    .option('--json', 'print the counts as JSON', false)
    .option('--redis-password <password>', PASSWORD_HELP)
    .action(async (flags: RedisFlags & { json: boolean }) => {
      const address = addressOf(flags);
      const queue = await openSweepQueue(address);
      try {
        const status = await queueStatus(queue);
        process.stdout.write(flags.json ? `${JSON.stringify(status, null, 2)}\n` : statusText(address, status));
      } finally {
        await queue.close();
      }
    });

  program
    .command('collect')
    .description(
      'Write the outcomes of a queued sweep’s finished cells into its results folder (grid.json + results.jsonl, as a ' +
        'local sweep leaves it, so bench report reads it). A cell already there is not written again; a cell whose job ' +
        'failed for good gets a row with status failed and the error. Run it as often as you like.',
    )
    .argument('<dir>', 'the results folder bench sweep --queue made (its --out)')
    .requiredOption('--queue <url>', QUEUE_HELP)
    .option('--redis-password <password>', PASSWORD_HELP)
    .action(async (dir: string, flags: RedisFlags) => {
      const address = addressOf(flags);
      const out = fromUser(dir);
      const summary = await collectSweep(out, { address });
      process.stdout.write(
        `Collected sweep ${summary.hash.slice(0, 8)} from ${address.display}:\n${summaryLines(summary)}` +
          `Results: ${join(out, 'results.jsonl')}\n`,
      );
    });
}
