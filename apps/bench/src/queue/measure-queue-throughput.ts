// Developer measurement, not part of the CLI: cells per second of one grid run
// by 1 and by 2 `bench worker` processes (1 thread each) on this machine, on a
// throwaway redis-server on 127.0.0.1. Rounds interleave 1 and 2; the best of each counts.
//   pnpm --filter @mup2/bench exec tsx src/queue/measure-queue-throughput.ts [rounds]
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisServer } from '../../fixtures/redis-test-server.js';
import { parseGrid } from '../sweep/grid.js';
import { differingCells } from '../sweep/sweep-throughput.js';
import { parseQueueAddress } from './queue-address.js';
import { submitSweep } from './queued-sweep.js';

const CLI = new URL('../cli.ts', import.meta.url).pathname;
const rounds = Number(process.argv[2] ?? 2);
// 8 cells of about two seconds each on wasm.
const grid = parseGrid({ widths: '2', rules: 'sgd,sam', lrs: '0.05,0.1', seeds: '1,2', limit: 8000, epochs: 1 });

/** CPU seconds (user + system, all threads) a process has used so far, from /proc (Linux). */
async function cpuSeconds(pid: number | undefined): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command name; in clock ticks of 1/100 s.
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / 100;
}

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
const runs: {
  workers: number;
  seconds: number;
  cores: number;
  rows: Awaited<ReturnType<typeof submitSweep>>['rows'];
}[] = [];
const cpuOf = async (children: ChildProcess[]) =>
  (await Promise.all(children.map((child) => cpuSeconds(child.pid)))).reduce((sum, value) => sum + value, 0);
try {
  for (let round = 0; round < rounds; round++) {
    for (const count of [1, 2]) {
      const queueUrl = `${server.url}/bench-${round}-${count}`;
      workers.push(...(await Promise.all(Array.from({ length: count }, () => startWorker(queueUrl)))));
      const out = await mkdtemp(join(tmpdir(), 'mup2-queue-bench-'));
      const cpuBefore = await cpuOf(workers);
      const started = performance.now();
      const summary = await submitSweep(grid, {
        address: parseQueueAddress(queueUrl),
        out,
        wait: true,
        pollSeconds: 0.2,
      });
      const seconds = (performance.now() - started) / 1000;
      // Cores the workers got: on a machine shared with other work, 2 processes may not get 2.
      const cores = ((await cpuOf(workers)) - cpuBefore) / seconds;
      runs.push({ workers: count, seconds, cores, rows: summary.rows });
      process.stderr.write(
        `round ${round + 1}, ${count} worker(s): ${summary.total} cells in ${seconds.toFixed(1)} s, using ${cores.toFixed(2)} cores\n`,
      );
      for (const worker of workers.splice(0)) worker.kill('SIGKILL');
      await rm(out, { recursive: true, force: true });
    }
  }
} finally {
  for (const worker of workers) worker.kill('SIGKILL');
  await server.stop();
}
const best = (count: number) =>
  runs.filter((run) => run.workers === count).reduce((fastest, run) => (run.seconds < fastest.seconds ? run : fastest));
const cells = runs[0]?.rows.length ?? 0;
const [one, two] = [best(1), best(2)];
const line = (run: (typeof runs)[number]) =>
  `${(cells / run.seconds).toFixed(3)} cells/s (${run.seconds.toFixed(1)} s, the workers using ${run.cores.toFixed(2)} cores)`;
const differing = differingCells(runs[0]?.rows ?? [], runs[1]?.rows ?? []);
process.stdout.write(
  `Queue throughput, ${cells} cells, best of ${rounds} round(s), workers started and warm before the clock:\n` +
    `  1 worker process:   ${line(one)}\n` +
    `  2 worker processes: ${line(two)}\n` +
    `  speed-up ${(one.seconds / two.seconds).toFixed(2)}×; same results with 2 as with 1: ${differing.length === 0 ? 'yes' : `no (${differing.length} cells differ)`}\n`,
);
