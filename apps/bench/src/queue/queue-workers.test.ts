// Integration: real redis-server, workers as separate `bench worker` processes.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisTestServer, startRedisServer } from '../../fixtures/redis-test-server.js';
import { expandGrid, parseGrid } from '../sweep/grid.js';
import { cellJobData, cellJobId } from './cell-job.js';
import { parseQueueAddress } from './queue-address.js';
import { collectSweep, submitSweep } from './queued-sweep.js';
import { QUEUE_PREFIX } from './sweep-queue.js';

const CLI = new URL('../cli.ts', import.meta.url).pathname;
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const backend = process.env.MUP2_BACKEND || 'wasm';
// Short enough that a killed worker's cell is free again within ~4 s, long enough that a busy machine does not
// delay a live worker's renewal (every 1.5 s) past it.
const FAST_STALLS = ['--lock-duration', '3', '--stalled-interval', '1'];

let server: RedisTestServer;
let redis: Redis;
const children = new Set<ChildProcess>();
const folders: string[] = [];

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.port, '127.0.0.1');
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  redis?.disconnect();
  await server?.stop();
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

const folder = async () => {
  const path = await mkdtemp(join(tmpdir(), 'mup2-queue-'));
  folders.push(path);
  return path;
};

interface Cli {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

/** The bench CLI as its own process (node + tsx's loader, so a SIGKILL reaches the process that holds the job). */
function startCli(args: readonly string[], cwd: string, options: { detached?: boolean } = {}): Cli {
  const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], {
    cwd,
    env: { ...process.env, INIT_CWD: cwd, MUP2_BACKEND: backend },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so that a Ctrl-C can be sent to the group as a terminal does.
    detached: options.detached ?? false,
  });
  children.add(child);
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return { child, output: () => output, exited };
}

async function runCli(args: readonly string[], cwd: string) {
  const cli = startCli(args, cwd);
  const code = await cli.exited;
  return { code, output: cli.output() };
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, seconds = 40): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Starts a worker and waits for its 'ready' line (threads up and warm). */
async function startWorker(
  queueUrl: string,
  cwd: string,
  extra: readonly string[] = [],
  options: { detached?: boolean } = {},
): Promise<Cli> {
  const worker = startCli(['worker', '--queue', queueUrl, ...FAST_STALLS, ...extra], cwd, options);
  await until(
    'a worker to be ready',
    async () => worker.output().includes(' ready: ') || worker.child.exitCode !== null,
  );
  expect(worker.output()).toMatch(/ready: 1 thread/);
  return worker;
}

const jobField = (queueName: string, jobId: string, field: string) =>
  redis.hget(`${QUEUE_PREFIX}:${queueName}:${jobId}`, field);

async function resultRows(out: string) {
  const text = await readFile(join(out, 'results.jsonl'), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}

// Seeds from 1: TF.js reads a seed of 0 as "unseeded".
const TINY = ['--models', 'mlp', '--widths', '0.125', '--rules', 'sgd,sam', '--seeds', '1,2,3', '--limit', '256'];
// One cell of a few seconds, long enough to kill its worker in the middle.
const SLOW_GRID = parseGrid({ widths: '2', rules: 'sam', seeds: '1', limit: 8000, epochs: 2 });

describe('bench sweep --queue with bench worker processes', () => {
  it('runs a grid over 2 workers, each cell exactly once; resubmitting or collecting again adds nothing', async () => {
    const cwd = await folder();
    const queueUrl = `${server.url}/grid`;
    const workers = await Promise.all([startWorker(queueUrl, cwd), startWorker(queueUrl, cwd)]);
    const sweep = await runCli(['sweep', ...TINY, '--out', 'out', '--queue', queueUrl, '--wait'], cwd);
    expect(sweep.output).toMatch(/6 cells, 0 had a row before, 6 enqueued now, 0 on the queue already/);
    expect(sweep.output).toMatch(/6 of 6 cells have a row \(6 written now; 6 ok/);
    expect(sweep.code).toBe(0);
    const rows = await resultRows(join(cwd, 'out'));
    const grid = parseGrid({ widths: '0.125', rules: 'sgd,sam', seeds: '1,2,3', limit: 256 });
    const ids = expandGrid(grid).map((cell) => cell.id);
    expect(rows.map((row) => row.cellId).sort()).toEqual([...ids].sort());
    expect(rows.every((row) => row.status === 'ok' && row.backend === backend)).toBe(true);
    // Both workers took cells, and each cell was started once.
    const takers = await Promise.all(ids.map((id) => jobField('grid', cellJobId(id), 'pb')));
    expect(new Set(takers).size).toBe(2);
    for (const id of ids) expect(await jobField('grid', cellJobId(id), 'ats')).toBe('1');

    // The same calls as the CLI's, in this process (a CLI start costs seconds).
    const address = parseQueueAddress(queueUrl);
    const again = await submitSweep(grid, { address, out: join(cwd, 'out') });
    expect(again).toMatchObject({ total: 6, skipped: 6, added: 0, collected: 0 });
    // Into a fresh folder, the finished jobs are collected, not run again.
    const elsewhere = await submitSweep(grid, { address, out: join(cwd, 'fresh') });
    expect(elsewhere).toMatchObject({ total: 6, skipped: 0, added: 0, present: 6, collected: 6 });
    expect(await collectSweep(join(cwd, 'out'), { address })).toMatchObject({ collected: 0, pending: 0 });
    expect(await resultRows(join(cwd, 'out'))).toHaveLength(6);
    expect(await resultRows(join(cwd, 'fresh'))).toEqual(rows);

    const status = JSON.parse((await runCli(['status', '--queue', queueUrl, '--json'], cwd)).output);
    expect(status).toMatchObject({ waiting: 0, active: 0, done: 6, failed: 0, threads: 2, etaSeconds: 0 });
    for (const worker of workers) worker.child.kill('SIGTERM');
    expect(await Promise.all(workers.map((worker) => worker.exited))).toEqual([0, 0]);
  }, 90_000);

  it('Ctrl-C to a worker (SIGINT to its process group, and a launcher’s copy) finishes the running cell, then exits 130', async () => {
    const cwd = await folder();
    const queueUrl = `${server.url}/interrupt`;
    const worker = await startWorker(queueUrl, cwd, [], { detached: true });
    const out = join(cwd, 'out');
    await submitSweep(SLOW_GRID, { address: parseQueueAddress(queueUrl), out });
    await until('the cell to start', async () => worker.output().includes(' started'));
    process.kill(-(worker.child.pid as number), 'SIGINT');
    await sleep(5);
    process.kill(-(worker.child.pid as number), 'SIGINT');
    expect(await worker.exited).toBe(130);
    const output = worker.output();
    expect(output.match(/finishing the running cells, then stopping/g)).toHaveLength(1);
    expect(output).not.toMatch(/stopping now/);
    expect(output).toMatch(/ ok in [\d.]+ s, test accuracy/);
    const collected = await collectSweep(out, { address: parseQueueAddress(queueUrl) });
    expect(collected).toMatchObject({ collected: 1, pending: 0 });
  }, 90_000);

  it('a worker SIGKILLed in the middle of a cell: another worker runs it, and it is written once', async () => {
    const cwd = await folder();
    const queueUrl = `${server.url}/kill`;
    const workers = await Promise.all([startWorker(queueUrl, cwd), startWorker(queueUrl, cwd)]);
    const address = parseQueueAddress(queueUrl);
    const out = join(cwd, 'out');
    expect(await submitSweep(SLOW_GRID, { address, out })).toMatchObject({ total: 1, added: 1 });
    const [cell] = expandGrid(SLOW_GRID);
    const jobId = cellJobId(cell!.id);
    const taker = await until('the cell to start', () => jobField('kill', jobId, 'pb').then((pb) => pb ?? undefined));
    const victim = workers.find((worker) => taker.endsWith(`:${worker.child.pid}`))!;
    victim.child.kill('SIGKILL');
    await victim.exited;
    expect(await jobField('kill', jobId, 'finishedOn')).toBeNull();

    await until('the cell to finish elsewhere', async () => (await jobField('kill', jobId, 'finishedOn')) !== null);
    expect(await collectSweep(out, { address })).toMatchObject({ collected: 1 });
    expect(await jobField('kill', jobId, 'ats')).toBe('2');
    expect(await jobField('kill', jobId, 'pb')).not.toBe(taker);
    expect(await collectSweep(out, { address })).toMatchObject({ collected: 0 });
    const rows = await resultRows(join(cwd, 'out'));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ cellId: cell!.id, status: 'ok' });
    for (const worker of workers) worker.child.kill('SIGKILL');
  }, 90_000);

  it('a cell whose workers die more often than --attempts allows is recorded as failed with the reason', async () => {
    const cwd = await folder();
    const queueUrl = `${server.url}/attempts`;
    const first = await startWorker(queueUrl, cwd);
    await submitSweep(SLOW_GRID, { address: parseQueueAddress(queueUrl), out: join(cwd, 'out'), attempts: 1 });
    const [cell] = expandGrid(SLOW_GRID);
    await until('the cell to start', () =>
      jobField('attempts', cellJobId(cell!.id), 'pb').then((pb) => pb ?? undefined),
    );
    first.child.kill('SIGKILL');
    await first.exited;
    const second = await startWorker(queueUrl, cwd);
    await until(
      'the job to fail',
      async () => (await jobField('attempts', cellJobId(cell!.id), 'finishedOn')) !== null,
    );
    const collected = await runCli(['collect', '--queue', queueUrl, 'out'], cwd);
    expect(collected.output).toMatch(/1 of 1 cells have a row \(1 written now; 0 ok, 0 diverged, 1 failed\)/);
    const [row] = await resultRows(join(cwd, 'out'));
    expect(row).toMatchObject({ cellId: cell!.id, status: 'failed', finalTestAccuracy: null });
    expect(row.error).toMatch(/started 2 times, more than its 1 attempts; the workers running it died/);
    second.child.kill('SIGKILL');
  }, 90_000);

  it('refuses payloads that do not parse or validate, with the reason, and goes on with the next cell', async () => {
    const cwd = await folder();
    const queueUrl = `${server.url}/garbage`;
    const queue = new Queue('garbage', { connection: { host: '127.0.0.1', port: server.port }, prefix: QUEUE_PREFIX });
    try {
      const cells = expandGrid(parseGrid({ widths: '0.125', rules: 'sgd', seeds: '1,2', limit: 256 }));
      const [filed, other] = cells as [(typeof cells)[0], (typeof cells)[0]];
      await queue.add('cell', 'hello' as never, { jobId: 'cell-0000000000000aaa', attempts: 3 });
      await queue.add('cell', cellJobData({ ...filed.config, lr: 'fast' as never }), {
        jobId: 'cell-0000000000000bbb',
        attempts: 3,
      });
      // The first cell's id with the second cell's config: a result that would be filed under the wrong cell.
      await queue.add('cell', cellJobData(other.config), { jobId: cellJobId(filed.id), attempts: 3 });
      // Data that is not JSON at all: written past BullMQ, which would refuse it.
      await queue.add('cell', cellJobData(other.config), { jobId: 'cell-0000000000000ccc', delay: 60_000 });
      await redis.hset(`${QUEUE_PREFIX}:garbage:cell-0000000000000ccc`, 'data', '{"payloadVersion": 1, "con');
      await new Job(queue, 'cell', {}, {}, 'cell-0000000000000ccc').promote();

      const worker = await startWorker(queueUrl, cwd);
      const reason = (id: string) =>
        until(`job ${id} to fail`, () => jobField('garbage', id, 'failedReason').then((text) => text ?? undefined));
      expect(await reason('cell-0000000000000aaa')).toMatch(/the payload is not an object: 'hello'/);
      expect(await reason('cell-0000000000000bbb')).toMatch(/the trainer rejects its config: .*lr/);
      expect(await reason(cellJobId(filed.id))).toMatch(/the id is not that of its config/);
      expect(await reason('cell-0000000000000ccc')).toMatch(/the payload is not JSON \(.*data begins/);
      // Refused at once: no retries of a payload that will never parse.
      expect(await jobField('garbage', 'cell-0000000000000aaa', 'atm')).toBe('1');

      // The worker is still there: the grid runs, and the refused cell is collected as failed with its reason.
      const sweep = await runCli(
        [
          'sweep',
          '--widths',
          '0.125',
          '--rules',
          'sgd',
          '--seeds',
          '1,2',
          '--limit',
          '256',
          '--out',
          'out',
          '--queue',
          queueUrl,
          '--wait',
        ],
        cwd,
      );
      expect(sweep.output).toMatch(/2 cells, 0 had a row before, 1 enqueued now, 1 on the queue already/);
      const rows = await resultRows(join(cwd, 'out'));
      expect(rows.find((row) => row.cellId === other.id)).toMatchObject({ status: 'ok' });
      expect(rows.find((row) => row.cellId === filed.id)).toMatchObject({ status: 'failed' });
      expect(rows.find((row) => row.cellId === filed.id).error).toMatch(
        /queue: job failed .*the id is not that of its config/,
      );
      expect(worker.child.exitCode).toBeNull();
      expect(worker.output()).toMatch(/cell-0000000000000ccc job failed: .*not JSON/);
      worker.child.kill('SIGKILL');
    } finally {
      await queue.close();
    }
  }, 90_000);

  it('bad addresses and unreachable servers are clear errors (exit 2) that write nothing', async () => {
    const cwd = await folder();
    const unnamed = await runCli(['sweep', ...TINY, '--out', 'out', '--queue', server.url], cwd);
    expect(unnamed.code).toBe(2);
    expect(unnamed.output).toMatch(/error: --queue '.*' names no queue/);
    const refused = await runCli(['sweep', ...TINY, '--out', 'out', '--queue', 'redis://127.0.0.1:1/q'], cwd);
    expect(refused.code).toBe(2);
    expect(refused.output).toMatch(/error: cannot use Redis at redis:\/\/127\.0\.0\.1:1\/q: .*ECONNREFUSED/);
    expect(await readdir(cwd)).toEqual([]);
    await expect(collectSweep(join(cwd, 'nothing'), { address: parseQueueAddress(`${server.url}/q`) })).rejects.toThrow(
      /nothing has no grid\.json; collect writes into the results folder that bench sweep --queue --out made/,
    );
  }, 60_000);
});
