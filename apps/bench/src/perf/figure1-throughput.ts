import { spawn } from 'node:child_process';
import { figure1Grid } from '../experiments/figure1-grid.js';
import type { SweepGridInput } from '../sweep/grid.js';
import { tsxExecArgv } from '../tsx-loader.js';

const PROCESS = new URL(
  `./figure1-throughput-process${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
);

/**
 * One seed of `bench figure1 --quick`'s grid, its cells as they are (MLP ×1 and ×8, 1,000 MNIST
 * digits, 20 epochs, batch 128; every preset, η and ρ): 84 cells, a third of the job. The slice of 10
 * cells (one η, one ρ) it replaces read 1.26–1.96 for 2 workers over 1 where the whole job read
 * 2.0–2.2: in its 5–7 s window the cells' warm-up and the end, where one worker finishes the last
 * cell alone, weigh far more than in the job (docs/performance-log.md, "figure1's two workers,
 * measured on the job itself").
 */
export function figure1ThroughputGrid(): SweepGridInput {
  const quick = figure1Grid(true);
  return { ...quick, seeds: (quick.seeds as readonly number[]).slice(0, 1) };
}

export interface Figure1Throughput {
  /** The round this run belongs to: each round runs every worker count once, in turn. */
  readonly round: number;
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
  round: number,
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
        round,
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
 * counts taken in turn each round: every run, in order. Compare the counts round by round
 * (throughputTargets): a lone worker's runs spread more than two workers' (46.8–61.8 s against
 * 29.8–33.6 for these cells in one hour), so the best of each count favours the one worker.
 */
export async function measureFigure1Throughput(options: {
  workerCounts: readonly number[];
  rounds: number;
  backend?: string;
  onRun?: (workers: number, round: number) => void;
}): Promise<Figure1Throughput[]> {
  const grid = figure1ThroughputGrid();
  const runs: Figure1Throughput[] = [];
  for (let round = 0; round < options.rounds; round++) {
    for (const workers of options.workerCounts) {
      options.onRun?.(workers, round);
      runs.push(await measureInProcess(round, workers, grid, options.backend));
    }
  }
  return runs;
}
