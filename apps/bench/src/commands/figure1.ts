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
import { figure1Grid, figure1Rank } from '../experiments/figure1-grid.js';
import { gridSteps, type OptimumDrift, optimumDrift } from '../experiments/optimum-drift.js';
import type { AccuracyBaseline } from '../plot/rho-profile-chart.js';
import { sgdBaselines } from '../plot/sgd-baselines.js';
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

const percent = (fraction: number) => `${(100 * fraction).toFixed(1)}%`;

/** Per preset: η*, ρ*, test accuracy ± its spread over seeds, and train accuracy at each width; how far the optimum moves. */
export function driftTable(drifts: readonly OptimumDrift[]): string {
  const widths = drifts[0]?.optima.map((optimum) => optimum.widthMult) ?? [];
  const lines = [
    `| preset | ${widths.map((width) => `×${width}: η*, ρ* — test (train)`).join(' | ')} | η* moves | ρ* moves |`,
    `|---|${widths.map(() => '---').join('|')}|---:|---:|`,
  ];
  for (const drift of drifts) {
    const cells = drift.optima.map(
      (optimum) =>
        `${optimum.lr}, ${optimum.rho} — ${percent(optimum.accuracy)} ± ${percent(optimum.stdAccuracy)}` +
        ` (${optimum.trainAccuracy === null ? '–' : percent(optimum.trainAccuracy)})`,
    );
    lines.push(
      `| ${drift.preset} | ${cells.join(' | ')} | ${gridSteps(drift.lrDriftSteps)} | ${gridSteps(drift.rhoDriftSteps)}${drift.rhoInterior ? '' : ' (edge)'} |`,
    );
  }
  return lines.join('\n');
}

/** The paper's right panel in words: each preset's best at the widest width, best first, and SGD's. */
export function widestComparison(drifts: readonly OptimumDrift[], sgd: readonly AccuracyBaseline[]): string {
  const widest = drifts
    .map((drift) => ({ preset: drift.preset, best: drift.optima[drift.optima.length - 1] }))
    .filter((entry): entry is { preset: string; best: NonNullable<typeof entry.best> } => entry.best !== undefined)
    .sort((a, b) => b.best.accuracy - a.best.accuracy);
  const width = widest[0]?.best.widthMult;
  return (
    `At the widest width (×${width}), best test accuracy per preset: ` +
    widest.map(({ preset, best }) => `${preset} ${percent(best.accuracy)} ± ${percent(best.stdAccuracy)}`).join(', ') +
    (sgd.length > 0 ? `; ${sgd.map((baseline) => `${baseline.label} ${percent(baseline.accuracy)}`).join(', ')}` : '') +
    '.'
  );
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
    .option(
      '--quick',
      '1,000 MNIST digits, widths ×0.5 and ×4, 3×3 grid, 15 epochs, 2 seeds: about 7 minutes on 2 cores on wasm',
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
      rank: figure1Rank,
    });
    bar.stop();
    process.stdout.write(
      `\nFigure 1 (${grid.datasets.join(', ')}, widths ×${grid.widths.join(', ×')} of 64 units): ` +
        `${summary.total} cells, ${summary.skipped} already done, ${summary.ok} ok, ${summary.diverged} diverged, ` +
        `${summary.failed} failed, ${summary.seconds.toFixed(0)} s on ${summary.backend}.\n\n`,
    );
    const aggregate = aggregateSweep(summary.rows);
    const drifts = optimumDrift(aggregate.points, aggregate.optima, options.rule);
    process.stdout.write(
      `Optimal (η, ρ) of ${registry.descriptor(options.rule).label} per preset and width` +
        ' (ρ = 0: the SGD run of the same parameterization), ' +
        'test accuracy ± std over seeds (train accuracy), and how far the optimum moves across widths ' +
        'in grid steps ("edge": ρ* is the smallest or largest radius at some width):\n\n' +
        `${driftTable(drifts)}\n\n${widestComparison(drifts, sgdBaselines(aggregate.points, Math.max(...grid.widths)))}\n\n`,
    );
    const report = await buildReport(out);
    process.stdout.write(`Results: ${out}\nReport: ${report.html}\n`);
  });
}
