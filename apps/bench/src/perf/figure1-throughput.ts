import { spawn } from 'node:child_process';
import { figure1Grid } from '../experiments/figure1-grid.js';
import type { SweepGridInput } from '../sweep/grid.js';
import { tsxExecArgv } from '../tsx-loader.js';

const PROCESS = new URL(
  `./figure1-throughput-process${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
);

/**
 * A slice of `bench figure1 --quick`'s grid, its cells as they are (MLP ×1 and ×8, 1,000 MNIST
 * digits, 20 epochs, batch 128): one seed, η 0.05 and ρ 0.05 (a cell's cost does not depend on
 * them), its three presets, SGD and SAM: 10 cells (SGD runs once per parameterization), enough
 * that both workers stay busy to the end.
 */
export function figure1ThroughputGrid(): SweepGridInput {
  const quick = figure1Grid(true);
  return { ...quick, seeds: [0], lrs: [0.05], rhos: [0.05] };
}

export interface Figure1Throughput {
  readonly workers: number;
  readonly cells: number;
  /** From the first cell handed out to the last row written (start-up excluded). */
  readonly seconds: number;
  readonly cellsPerHour: number;
  /** CPU time of the process over `seconds`: the cores it got. */
  readonly coresUsed: number;
  readonly backend: string;
}

function measureInProcess(
  workers: number,
  grid: SweepGridInput,
  backend: string | undefined,
): Promise<Figure1Throughput> {
  return new Promise((resolve, reject) => {
    const args = [
      ...tsxExecArgv(PROCESS),
      PROCESS.pathname,
      '--workers',
      String(workers),
      '--grid',
      JSON.stringify(grid),
      ...(backend ? ['--backend', backend] : []),
    ];
    // The child sizes libtensorflow's pools for its own worker count, so thread settings of this process stay out.
    const { TF_NUM_INTRAOP_THREADS: _intra, TF_NUM_INTEROP_THREADS: _inter, ...environment } = process.env;
    const child = spawn(process.execPath, args, { env: { ...environment, TF_CPP_MIN_LOG_LEVEL: '2' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) {
        reject(
          new Error(
            `figure1 throughput with ${workers} workers failed (exit ${code}): ${stderr.trim().split('\n').slice(-5).join(' ')}`,
          ),
        );
        return;
      }
      const run = JSON.parse(line) as Omit<Figure1Throughput, 'cellsPerHour'> & { cellsPerSecond: number };
      resolve({
        workers: run.workers,
        cells: run.cells,
        seconds: run.seconds,
        cellsPerHour: run.cellsPerSecond * 3600,
        coresUsed: run.coresUsed,
        backend: run.backend,
      });
    });
  });
}

/**
 * Cells per hour of figure1's own cells with each worker count, every run in a fresh process
 * (its thread pools sized for its workers, as `bench figure1 --workers N` sizes them), the worker
 * counts taken in turn each round; the best run of each count is kept (the one least slowed by
 * other work on the machine).
 */
export async function measureFigure1Throughput(options: {
  workerCounts: readonly number[];
  rounds: number;
  backend?: string;
  onRun?: (workers: number, round: number) => void;
}): Promise<Figure1Throughput[]> {
  const grid = figure1ThroughputGrid();
  const best = new Map<number, Figure1Throughput>();
  for (let round = 0; round < options.rounds; round++) {
    for (const workers of options.workerCounts) {
      options.onRun?.(workers, round);
      const run = await measureInProcess(workers, grid, options.backend);
      const found = best.get(workers);
      if (found === undefined || run.cellsPerHour > found.cellsPerHour) best.set(workers, run);
    }
  }
  return options.workerCounts.map((workers) => best.get(workers) as Figure1Throughput);
}
