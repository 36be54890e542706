import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import {
  absoluteRuleModules,
  addRuleModuleOption,
  addRulesHelp,
  loadRules,
  NO_RULE,
  type RuleRegistry,
} from '@mup2/model-zoo';
import type { Command } from 'commander';
import { positiveInteger } from '../cli-options.js';
import { figure1Grid } from '../experiments/figure1-grid.js';
import { type OptimumDrift, optimumDrift } from '../experiments/optimum-drift.js';
import { aggregateSweep } from '../plot/sweep-aggregate.js';
import { buildReport } from '../report/build-report.js';
import { createResultsDir, userDirectory } from '../results-dir.js';
import { parseGrid } from '../sweep/grid.js';
import { runSweep } from '../sweep/run-sweep.js';
import { sweepProgressBar } from './sweep.js';

interface Figure1Options {
  quick: boolean;
  rule: string;
  ruleModule?: string[];
  workers: number;
  backend?: string;
  dataDir?: string;
  out?: string;
}

function driftTable(drifts: readonly OptimumDrift[]): string {
  const widths = drifts[0]?.optima.map((optimum) => optimum.widthMult) ?? [];
  const lines = [
    `| preset | ${widths.map((width) => `η*, ρ* (acc) at ×${width}`).join(' | ')} | η* moves | ρ* moves |`,
    `|---|${widths.map(() => '---').join('|')}|---:|---:|`,
  ];
  for (const drift of drifts) {
    const cells = drift.optima.map(
      (optimum) => `${optimum.lr}, ${optimum.rho} (${(100 * optimum.accuracy).toFixed(1)}%)`,
    );
    lines.push(
      `| ${drift.preset} | ${cells.join(' | ')} | ${drift.lrDriftOctaves.toFixed(1)} oct | ${drift.rhoDriftOctaves.toFixed(1)} oct |`,
    );
  }
  return lines.join('\n');
}

/** `bench figure1`; `rules` (the installed ones) are listed in its help. */
export function registerFigure1Command(program: Command, rules: RuleRegistry): void {
  const command = program
    .command('figure1')
    .description(
      "The paper's Figure 1 on an MLP: an η×ρ sweep at several widths for sp-naive, sp-lp, mup-naive, " +
        'mup-global and mup2 (SAM), with SGD in SP and µP as baselines; heatmaps, optimum against width, ' +
        'accuracy against ρ, and an HTML report. Resumable: rerun the same command to finish an interrupted run.',
    )
    .option('--quick', 'MNIST, 3 widths, 5×4 grid, 1 epoch: about 10 minutes on 2 cores', false)
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
    const bar = sweepProgressBar();
    const summary = await runSweep(grid, {
      out,
      workers: options.workers,
      ...(options.backend !== undefined && { backend: options.backend }),
      ...(dataDir !== undefined && { dataDir }),
      ruleModules,
      onProgress: (progress) => bar.update(progress),
    });
    bar.stop();
    process.stdout.write(
      `\nFigure 1 (${grid.datasets.join(', ')}, widths ×${grid.widths.join(', ×')} of 64 units): ` +
        `${summary.total} cells, ${summary.skipped} already done, ${summary.ok} ok, ${summary.diverged} diverged, ` +
        `${summary.failed} failed, ${summary.seconds.toFixed(0)} s on ${summary.backend}.\n\n`,
    );
    const aggregate = aggregateSweep(summary.rows);
    const drifts = optimumDrift(aggregate.optima, options.rule);
    process.stdout.write(
      `Optimal (η, ρ) of ${registry.descriptor(options.rule).label} per preset and width, and how far it moves across widths (octaves = factors of 2):\n\n` +
        `${driftTable(drifts)}\n\n`,
    );
    const report = await buildReport(out);
    process.stdout.write(`Results: ${out}\nReport: ${report.html}\n`);
  });
}
