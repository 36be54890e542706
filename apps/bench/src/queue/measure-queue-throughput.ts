// Developer measurement, not part of the CLI: cells per second of one grid run
// by 1 and by 2 `bench worker` processes (1 thread each) on this machine, on a
// throwaway redis-server on 127.0.0.1. Rounds interleave 1 and 2; the best of each counts.
//   pnpm --filter @mup2/bench exec tsx src/queue/measure-queue-throughput.ts [rounds]
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGrid } from '../sweep/grid.js';
import { differingCells } from '../sweep/sweep-throughput.js';
import { parseQueueAddress } from './queue-address.js';
import { submitSweep } from './queued-sweep.js';
import { startRedisServer } from './redis-test-server.js';

const CLI = new URL('../cli.ts', import.meta.url).pathname;
const rounds = Number(process.argv[2] ?? 2);
// 8 cells of about two seconds each on wasm.
const grid = parseGrid({ widths: '2', rules: 'sgd,sam', lrs: '0.05,0.1', seeds: '1,2', limit: 8000, epochs: 1 });

function startWorker(queueUrl: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...process.execArgv, CLI, 'worker', '--queue', queueUrl], {
    env: { ...process.env, MUP2_BACKEND: process.env.MUP2_BACKEND || 'wasm' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    child.stderr?.on('data', (chunk) => {
      output += chunk;
      if (output.includes(' ready: ')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`worker exited (${code}):\n${output}`)));
  });
}

const server = await startRedisServer();
const workers: ChildProcess[] = [];
const runs: { workers: number; seconds: number; rows: Awaited<ReturnType<typeof submitSweep>>['rows'] }[] = [];
try {
  for (let round = 0; round < rounds; round++) {
    for (const count of [1, 2]) {
      const queueUrl = `${server.url}/bench-${round}-${count}`;
      workers.push(...(await Promise.all(Array.from({ length: count }, () => startWorker(queueUrl)))));
      const out = await mkdtemp(join(tmpdir(), 'mup2-queue-bench-'));
      const started = performance.now();
      const summary = await submitSweep(grid, {
        address: parseQueueAddress(queueUrl),
        out,
        wait: true,
        pollSeconds: 0.2,
      });
      const seconds = (performance.now() - started) / 1000;
      runs.push({ workers: count, seconds, rows: summary.rows });
      process.stderr.write(
        `round ${round + 1}, ${count} worker(s): ${summary.total} cells in ${seconds.toFixed(1)} s\n`,
      );
      for (const worker of workers.splice(0)) worker.kill('SIGKILL');
      await rm(out, { recursive: true, force: true });
    }
  }
} finally {
  for (const worker of workers) worker.kill('SIGKILL');
  await server.stop();
}
const best = (count: number) => Math.min(...runs.filter((run) => run.workers === count).map((run) => run.seconds));
const cells = runs[0]?.rows.length ?? 0;
const [one, two] = [best(1), best(2)];
const differing = differingCells(runs[0]?.rows ?? [], runs[1]?.rows ?? []);
process.stdout.write(
  `Queue throughput, ${cells} cells, best of ${rounds} round(s), workers started and warm before the clock:\n` +
    `  1 worker process:  ${(cells / one).toFixed(3)} cells/s (${one.toFixed(1)} s)\n` +
    `  2 worker processes: ${(cells / two).toFixed(3)} cells/s (${two.toFixed(1)} s)\n` +
    `  speed-up ${(one / two).toFixed(2)}×; same results with 2 as with 1: ${differing.length === 0 ? 'yes' : `no (${differing.length} cells differ)`}\n`,
);
