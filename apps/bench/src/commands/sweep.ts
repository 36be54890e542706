import { isAbsolute, join, resolve } from 'node:path';
import {
  absoluteRuleModules,
  addRuleModuleOption,
  addRulesHelp,
  DEFAULT_MEMORY_FRACTION,
  handleInterrupts,
  loadRules,
  type MemoryLimit,
  memoryLimitOption,
  progressBar,
  type RuleRegistry,
  ruleOption,
} from '@mup2/model-zoo';
import type { Command } from 'commander';
import { positiveInteger } from '../cli-options.js';
import { userDirectory } from '../results-dir.js';
import { GRID_KEYS, gridHash, parseGrid, type SweepGrid, type SweepGridInput } from '../sweep/grid.js';
import { readGridFile } from '../sweep/grid-file.js';
import { runSweep, type SweepProgress } from '../sweep/run-sweep.js';
import { SweepError } from '../sweep/sweep-error.js';
import { bestRuns, differingCells, measureSweepThroughput, type ThroughputRun } from '../sweep/sweep-throughput.js';
import { addQueueSweepOptions, type QueueSweepFlags, runQueuedSweep } from './queue.js';

interface SweepCommandOptions extends SweepGridInput, QueueSweepFlags {
  config?: string;
  dataDir?: string;
  workers: number;
  backend?: string;
  out?: string;
  bench: boolean;
  grow: boolean;
  benchRounds: number;
  ruleModule?: string[];
  /** --rule-option rule.name=x, collected as { 'rule.name': x }. */
  ruleOption?: Record<string, number>;
  memoryLimit?: MemoryLimit;
}

/** The help of --memory-limit in the sweeping commands. */
export const MEMORY_LIMIT_HELP =
  'refuse cells whose estimated memory (parameters, optimizer and SAM state, activations of a batch), times the cells ' +
  `run at once, is larger: a size (8G, 512M), a share of the available memory (90%), or none (default ${DEFAULT_MEMORY_FRACTION * 100}%)`;

/** What a long sweeping command prints at the first Ctrl-C and at the second. */
export const SWEEP_INTERRUPT_MESSAGES = {
  first: 'stopping after the running cells (their rows are kept); Ctrl-C again to quit now',
  again: 'quitting now: the running cells are abandoned and run again when you rerun the same command',
} as const;

/** { 'asam.eta': 0.02 } from the flags as the grid's { asam: { eta: 0.02 } }. */
function ruleOptionsOfFlags(flags: Record<string, number>): Record<string, Record<string, number>> {
  const nested: Record<string, Record<string, number>> = {};
  for (const [key, value] of Object.entries(flags)) {
    const [rule, option] = key.split('.');
    if (option === undefined) {
      throw new SweepError(`--rule-option ${key}=${value}: name the rule too, as rule.option=x (e.g. asam.eta=0.02).`);
    }
    nested[rule as string] = { ...nested[rule as string], [option]: value };
  }
  return nested;
}

const fromUser = (path: string) => (isAbsolute(path) ? path : resolve(userDirectory(), path));

/** The grid of the flags and the grid file: a flag given replaces the file's member. */
async function gridOf(
  options: SweepCommandOptions,
  rules: RuleRegistry,
): Promise<{ grid: SweepGrid; dataDir?: string }> {
  const file = options.config !== undefined ? await readGridFile(fromUser(options.config)) : undefined;
  const input: Record<string, unknown> = { ...file?.grid };
  for (const key of GRID_KEYS) {
    if (options[key] !== undefined) input[key] = options[key];
  }
  if (options.ruleOption !== undefined) input.ruleOptions = ruleOptionsOfFlags(options.ruleOption);
  const dataDir = options.dataDir ?? file?.dataDir;
  return { grid: parseGrid(input, rules), ...(dataDir !== undefined && { dataDir: fromUser(dataDir) }) };
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

/**
 * Cells done, running, failed and an ETA from the mean time per finished cell
 * of this run (cli-progress's own ETA follows the last few updates, which jump
 * when a few cells fail fast). With `out`, a rerun first says how many cells
 * its folder holds already ("resuming …"), or that none is left to run; a
 * sweep with nothing to run shows no bar.
 */
export function sweepProgressBar(out?: string) {
  const bar = progressBar({
    label: 'sweep',
    format: '{value}/{total} cells | running {running} | failed {failed} | diverged {diverged} | ETA {remaining}',
  });
  let started: number | undefined;
  return {
    update(progress: SweepProgress) {
      const toRun = progress.total - progress.skipped;
      const first = started === undefined;
      started ??= performance.now();
      if (first && out !== undefined && progress.skipped > 0) {
        process.stderr.write(
          toRun === 0
            ? `${out}: all ${progress.total} cells already done, nothing to run\n`
            : `resuming ${out}: ${progress.skipped} of ${progress.total} cells already done\n`,
        );
      }
      if (toRun === 0) return;
      const elapsed = (performance.now() - started) / 1000;
      const remaining = progress.done === 0 ? '…' : formatDuration((elapsed / progress.done) * (toRun - progress.done));
      const payload = { running: progress.running, failed: progress.failed, diverged: progress.diverged, remaining };
      if (first) bar.start(toRun, progress.done, payload);
      else bar.update(progress.done, payload);
    },
    stop: () => bar.stop(),
  };
}

async function benchThroughput(
  grid: SweepGrid,
  options: SweepCommandOptions,
  dataDir: string | undefined,
  ruleModules: string[],
): Promise<void> {
  const workers = options.workers === 1 ? 2 : options.workers;
  const plural = (count: number) => `${count} worker${count === 1 ? ' ' : 's'}`;
  const runs = await measureSweepThroughput(grid, [1, workers], {
    backend: options.backend,
    dataDir,
    ruleModules,
    rounds: options.benchRounds,
    onRun: (count, round) => process.stderr.write(`bench: round ${round + 1}, ${plural(count).trim()}…\n`),
  });
  const [one, many] = bestRuns(runs) as [ThroughputRun, ThroughputRun];
  const differing = differingCells(one.rows, many.rows);
  process.stdout.write(
    `\nSweep throughput, ${one.cells} cells (grid ${gridHash(grid).slice(0, 8)}), ${options.benchRounds} round(s):\n` +
      runs
        .map(
          (run) =>
            `  ${plural(run.workers)}: ${run.cellsPerSecond.toFixed(3)} cells/s ` +
            `(${run.seconds.toFixed(1)} s for the cells, using ${run.coresUsed.toFixed(2)} cores, ` +
            `${((run.coresUsed * run.seconds) / run.cells).toFixed(2)} CPU s per cell; ` +
            `${run.wallSeconds.toFixed(1)} s with checks and worker start-up)\n`,
        )
        .join('') +
      `  speed-up ${workers} over 1 (best run of each): ${(many.cellsPerSecond / one.cellsPerSecond).toFixed(2)}× ` +
      `(target ≥ ${(0.9 * workers).toFixed(1)})\n` +
      `  same results with ${workers} workers as with 1: ${differing.length === 0 ? 'yes' : `no, ${differing.length} cells differ (${differing.slice(0, 3).join(', ')})`}\n`,
  );
}

/** `bench sweep`; `rules` (the installed ones) are listed in its help. */
export function registerSweepCommand(program: Command, rules: RuleRegistry): void {
  const command = program
    .command('sweep')
    .description(
      'Train every cell of a grid (models × datasets × rules × presets × widths × lrs × rhos × seeds × epochs × batches) ' +
        'and append one JSON row per finished cell to <out>/results.jsonl. Rerunning the same command resumes: finished ' +
        'cells are skipped. Lists are comma-separated; a --config file (JSON or YAML, same member names in camelCase) ' +
        'gives the grid, and flags given as well replace its members. Rule sgd ignores the radii (one cell, rho 0).',
    )
    .option('--config <file>', 'grid file, JSON or YAML (members: models, datasets, …, baseWidthMult, limit, dataDir)')
    .option('--models <list>', 'models (default mlp)')
    .option('--datasets <list>', 'data sets: mnist, fashion-mnist, cifar10 (default mnist)')
    .option('--rules <list>', 'rules: sgd and the installed rules listed below (default sgd,sam)')
    .option('--presets <list>', 'presets: sp-naive, sp-lp, mup-naive, mup-global, mup2 (default mup2)')
    .option('--widths <list>', 'width multipliers (MLP: 64 units at 1; default 1)')
    .option('--lrs <list>', 'learning rates η (default 0.1)')
    .option('--rhos <list>', 'perturbation radii ρ (default 0.1)')
    .option('--seeds <list>', 'seeds (default 0)')
    .option('--epochs <list>', 'epoch counts (default 1)')
    .option('--batches <list>', 'batch sizes (default 64)')
    .option('--base-width-mult <x>', 'µP base width multiplier (default: the model’s own)')
    .option('--limit <n>', 'keep at most n examples of each split')
    .option('--test-limit <n>', 'keep at most n test examples instead (default: --limit)')
    .option(
      '--label-noise <fraction>',
      'replace this fraction of training labels by another class, seeded per cell seed (default 0)',
    )
    .option('--optimizer <name>', 'sgd or adam (default: the model’s own)')
    .option('--lr-schedule <name>', 'constant or cosine (decays η to 0 over the run; default constant)')
    .option('--eval-every <k>', 'evaluate the test split every k epochs and after the last (default 1)')
    .option('--momentum <x>', 'SGD momentum (default 0.9)')
    .option('--weight-decay <x>', 'weight decay (default 0)')
    .option('--m-sharpness <m>', 'm-sharpness of every perturbing cell: each chunk of m examples gets its own ε')
    .option('--perturbation-interval <k>', 'every perturbing cell computes ε every k steps and reuses it in between')
    .option('--rule-option <rule.name=x>', 'an option of a rule’s own, e.g. asam.eta=0.02 (repeatable)', ruleOption)
    .option('--data-dir <dir>', 'where fashion-mnist / cifar10 files are')
    .option('--workers <n>', 'cells trained at once, each in its own worker thread', positiveInteger, 1)
    .option('--backend <name>', 'TF.js backend of every worker (default: tensorflow if installed, else wasm, else cpu)')
    .option('--out <dir>', 'results folder (default: results/sweep-<first 8 hex digits of the grid hash>)')
    .option(
      '--grow',
      'let a results folder of a smaller grid (this grid with fewer values in its lists) grow into this one, keeping its rows',
      false,
    )
    .option('--memory-limit <size>', MEMORY_LIMIT_HELP, memoryLimitOption)
    .option(
      '--bench',
      'measure instead: run the grid with 1 worker and with --workers (default 2) in temporary folders and print cells/s',
      false,
    )
    .option(
      '--bench-rounds <n>',
      'with --bench: rounds of 1 and N workers, interleaved; the best of each counts',
      positiveInteger,
      1,
    )
    .action(async (options: SweepCommandOptions) => {
      const ruleModules = absoluteRuleModules(options.ruleModule, userDirectory());
      const { grid, dataDir } = await gridOf(options, await loadRules({ modules: ruleModules, cwd: userDirectory() }));
      if (options.bench) return benchThroughput(grid, options, dataDir, ruleModules);
      const hash = gridHash(grid);
      const out =
        options.out !== undefined
          ? fromUser(options.out)
          : join(userDirectory(), 'results', `sweep-${hash.slice(0, 8)}`);
      // Hook: --queue sends the cells to remote workers (commands/queue.ts) instead of local threads.
      if (options.queue !== undefined) return runQueuedSweep(grid, out, { ...options, queue: options.queue, dataDir });
      const interrupts = handleInterrupts(SWEEP_INTERRUPT_MESSAGES);
      const bar = sweepProgressBar(out);
      let summary: Awaited<ReturnType<typeof runSweep>>;
      try {
        summary = await runSweep(grid, {
          out,
          workers: options.workers,
          backend: options.backend,
          dataDir,
          ruleModules,
          signal: interrupts.signal,
          ...(options.memoryLimit !== undefined && { memoryLimit: options.memoryLimit }),
          ...(options.grow && { grow: true }),
          onProgress: (progress) => bar.update(progress),
        });
      } finally {
        bar.stop();
        interrupts.dispose();
      }
      const failedRows = summary.rows.filter((row) => row.status === 'failed');
      const left = summary.total - summary.rows.length;
      process.stdout.write(
        `\nSweep ${hash.slice(0, 8)}: ${summary.total} cells, ${summary.skipped} done before, ` +
          `${summary.ok} ok, ${summary.diverged} diverged, ${summary.failed} failed in this run ` +
          `(${summary.seconds.toFixed(1)} s, backend ${summary.backend}, ${options.workers} worker${options.workers === 1 ? '' : 's'})` +
          `${left > 0 ? `; ${left} cells left, rerun the same command to resume` : ''}\n` +
          failedRows
            .slice(0, 5)
            .map((row) => `  failed ${row.cellId} ${JSON.stringify(row.config)}: ${row.error}\n`)
            .join('') +
          (failedRows.length > 5 ? `  … and ${failedRows.length - 5} more failed cells (see results.jsonl)\n` : '') +
          `Results: ${join(out, 'results.jsonl')}\n`,
      );
      if (interrupts.exitCode !== undefined) process.exitCode = interrupts.exitCode;
    });
  addRuleModuleOption(command);
  addQueueSweepOptions(command);
  addRulesHelp(command, rules);
}
