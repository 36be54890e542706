import { availableParallelism } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import {
  absoluteRuleModules,
  addRuleModuleOption,
  addRulesHelp,
  handleInterrupts,
  loadRules,
  NO_RULE,
  type RuleRegistry,
} from '@mup2/model-zoo';
import type { Command } from 'commander';
import { chooseCommandBackend } from '../backend-line.js';
import { positiveInteger } from '../cli-options.js';
import { figure1Grid, figure1Rank, figure1RightPanelSeeds } from '../experiments/figure1-grid.js';
import { figure1Optima } from '../experiments/figure1-optima.js';
import { figure1Printout } from '../experiments/figure1-printout.js';
import {
  RIGHT_PANEL_DIR,
  rightPanelLrs,
  rightPanelSweeps,
  withPresetsAlreadyRun,
} from '../experiments/figure1-right-panel.js';
import { experimentLabel } from '../plot/sweep-aggregate.js';
import { buildReport } from '../report/build-report.js';
import { createResultsDir, userDirectory } from '../results-dir.js';
import { expandGrid, parseGrid, type SweepGrid } from '../sweep/grid.js';
import { runSweep, type SweepSummary } from '../sweep/run-sweep.js';
import { readGridRecord } from '../sweep/sweep-folder.js';
import { SWEEP_INTERRUPT_MESSAGES, sweepProgressBar } from './sweep.js';

interface Figure1Options {
  quick: boolean;
  rule: string;
  ruleModule?: string[];
  workers: number;
  backend?: string;
  dataDir?: string;
  out?: string;
}

/** `bench figure1`; `rules` (the installed ones) are listed in its help. */
export function registerFigure1Command(program: Command, rules: RuleRegistry): void {
  const command = program
    .command('figure1')
    .description(
      "The paper's Figure 1 on an MLP, in SAM's regime (training labels 40% wrong): an η×ρ sweep at widths ×1…×16 " +
        'for sp-naive, sp-lp, mup-naive, mup-global and mup2 (SAM), with SGD in SP and µP as baselines; the optima ' +
        'with bootstrap intervals and their drift per doubling of width, accuracy against ρ at the widest width ' +
        '(8 seeds), heatmaps and an HTML report. Resumable: rerun the same command to finish an interrupted run.',
    )
    .option(
      '--quick',
      '1,000 MNIST digits (40% wrong labels), widths ×1 and ×8, sp-naive, mup-global and mup2, 3×4 grid, 20 epochs, 3 seeds: minutes',
      false,
    )
    .option('--rule <name>', 'the perturbation rule swept (the paper: sam; any listed below)', 'sam')
    .option('--workers <n>', 'worker threads', positiveInteger, Math.max(1, availableParallelism()))
    .option('--backend <name>', 'TF.js backend (default: tensorflow if installed, else wasm, else cpu)')
    .option('--data-dir <dir>', 'Fashion-MNIST folder for the full run (default /usr/share/datasets/fashion-mnist)')
    .option('--out <dir>', 'results folder (default results/figure1[-quick], figure1-<rule>[-quick] for another rule)');
  addRuleModuleOption(command);
  addRulesHelp(command, rules);
  command.action(async (options: Figure1Options) => {
    if (options.rule === NO_RULE)
      command.error(`error: --rule ${NO_RULE} has no radius to sweep; name a perturbation rule.`);
    // The first line: the backend every cell trains on (on wasm, why, and what that costs).
    process.stdout.write(`${(await chooseCommandBackend(options.backend)).line}\n`);
    const ruleModules = absoluteRuleModules(options.ruleModule, userDirectory());
    const registry = await loadRules({ modules: ruleModules, cwd: userDirectory() });
    const dataDir =
      options.dataDir === undefined
        ? undefined
        : isAbsolute(options.dataDir)
          ? options.dataDir
          : resolve(userDirectory(), options.dataDir);
    const grid = parseGrid(figure1Grid(options.quick, dataDir, options.rule), registry);
    const name = options.rule === 'sam' ? 'figure1' : `figure1-${options.rule}`;
    const out = await createResultsDir(options.quick ? `${name}-quick` : name, options.out, { stamped: false });
    // Ctrl-C: the running cells finish and are written, then the command stops (exit 130) without the tables.
    const interrupts = handleInterrupts(SWEEP_INTERRUPT_MESSAGES);
    const stopped = (summary: SweepSummary) => {
      if (interrupts.exitCode === undefined) return false;
      process.stdout.write(
        `\nStopped: ${summary.rows.length} of ${summary.total} cells of ${summary.out} have a row; rerun the same command to resume.\n`,
      );
      process.exitCode = interrupts.exitCode;
      return true;
    };
    const sweep = async (sweepGrid: SweepGrid, folder: string, rank?: typeof figure1Rank) => {
      const bar = sweepProgressBar(folder);
      try {
        return await runSweep(sweepGrid, {
          out: folder,
          workers: options.workers,
          ...(options.backend !== undefined && { backend: options.backend }),
          ...(dataDir !== undefined && { dataDir }),
          ruleModules,
          signal: interrupts.signal,
          // The protocol's rule: when an optimum lies on the grid's edge, the grid grows that way and the
          // folder keeps its rows (docs/bench.md).
          grow: true,
          onProgress: (progress) => bar.update(progress),
          ...(rank !== undefined && { rank }),
        });
      } finally {
        bar.stop();
      }
    };
    const summary = await sweep(grid, out, figure1Rank);
    if (stopped(summary)) return;
    const widest = Math.max(...grid.widths);
    process.stdout.write(
      `\nFigure 1 (${experimentLabel(expandGrid(grid)[0]!.config)}; widths ×${grid.widths.join(', ×')} of 64 units, ` +
        `${grid.seeds.length} seeds): ${summary.total} cells, ${summary.skipped} already done, ${summary.ok} ok, ` +
        `${summary.diverged} diverged, ${summary.failed} failed, ${summary.seconds.toFixed(0)} s on ${summary.backend}.\n\n`,
    );
    const optima = figure1Optima(summary.rows, options.rule);
    let rows = summary.rows;
    let lrs: Map<string, number> | undefined;
    const extraSeeds = figure1RightPanelSeeds(options.quick, grid);
    if (extraSeeds.length > 0) {
      const sweeps = rightPanelSweeps(grid, optima, options.rule, extraSeeds);
      process.stdout.write(
        `The right panel at ×${widest} with seeds ${extraSeeds.join(', ')} added (each preset at its optimal η): ` +
          `${sweeps.length} sweeps in ${join(out, RIGHT_PANEL_DIR)}.\n`,
      );
      for (const panel of sweeps) {
        const dir = join(out, RIGHT_PANEL_DIR, panel.name);
        const panelGrid = withPresetsAlreadyRun(panel.grid, (await readGridRecord(dir))?.grid);
        const extra = await sweep(parseGrid(panelGrid, registry), dir);
        if (stopped(extra)) return;
        rows = [...rows, ...extra.rows];
      }
      lrs = rightPanelLrs(sweeps);
    }
    interrupts.dispose();
    process.stdout.write(`${figure1Printout(optima, rows, widest, options.rule, lrs)}\n`);
    const report = await buildReport(out);
    process.stdout.write(`Results: ${out}\nReport: ${report.html}\n`);
  });
}
