import { join } from 'node:path';
import { coordChart, slopeTable } from '@mup2/coord';
import { initBackend, PRESET_NAMES, type PresetName } from '@mup2/core';
import {
  absoluteRuleModules,
  addRuleModuleOption,
  addRulesHelp,
  loadDataset,
  loadRules,
  MLP_REFERENCE_WIDTH,
  progressBar,
  type RuleRegistry,
  runInterruptibly,
  stopAtOnceOnInterrupt,
  writeFileAtomically,
} from '@mup2/model-zoo';
import type { Command } from 'commander';
import type { TopLevelSpec } from 'vega-lite';
import { nameList, nonNegativeNumber, oneName, positiveInteger, positiveIntegerList } from '../cli-options.js';
import { COORD_MODELS, COORD_WIDTH_MEANING, type CoordModelName, runCoordCheck } from '../coord/run-coord-check.js';
import { measureModelPerf, PERF_MODELS } from '../perf/perf-suite.js';
import { renderChart } from '../plot/render-chart.js';
import { createResultsDir, userDirectory } from '../results-dir.js';

/** Widths that the native backend runs in minutes on two cores. */
const DEFAULT_WIDTHS: Record<CoordModelName, number[]> = {
  mlp: [64, 128, 256, 512, 1024, 2048],
  resnet18: [8, 16, 32, 64],
  vit: [32, 64, 128, 256],
};

interface CoordOptions {
  model: CoordModelName;
  rule: string;
  ruleModule?: string[];
  presets: PresetName[];
  widths?: number[];
  baseWidth?: number;
  steps: number;
  lr: number;
  rho: number;
  seeds: number;
  batch: number;
  backend?: string;
  out?: string;
  perf: boolean;
  perfWidth: number;
  perfRounds: number;
}

const STOPPED = 'stopped: bench coord writes its results at the end, so nothing was written';

/** `bench coord`; `rules` (the installed ones) are listed in its help. */
export function registerCoordCommand(program: Command, rules: RuleRegistry): void {
  const command = program
    .command('coord')
    .description(
      'Perturbation coordinate check (DESIGN.md §5): per-layer effective perturbation of SAM against width, ' +
        'and its log-log slope per preset. Under mup2 every slope is ≈ 0; under mup-global input and hidden ' +
        'slopes are clearly negative (only the last layer is effectively perturbed).',
    )
    .option('--model <name>', `zoo model: ${COORD_MODELS.join(', ')}`, oneName(COORD_MODELS), 'mlp')
    .option('--rule <name>', 'perturbation rule (listed below)', 'sam')
    .option('--presets <list>', 'comma-separated presets', nameList(PRESET_NAMES), [
      'sp-naive',
      'mup-naive',
      'mup-global',
      'mup2',
    ] as PresetName[])
    .option(
      '--widths <list>',
      'comma-separated widths: MLP hidden units, ResNet-18 first-stage channels, ViT embedding width (4 heads) ' +
        '(default: 64…2048 for mlp, 8,16,32,64 for resnet18, 32,64,128,256 for vit)',
      positiveIntegerList,
    )
    .option('--base-width <n>', 'base width of µP (default: the smallest width)', positiveInteger)
    .option('--steps <n>', 'SAM steps before measuring', positiveInteger, 3)
    .option('--lr <x>', 'learning rate η (µP-SGD)', nonNegativeNumber, 0.1)
    .option('--rho <x>', 'perturbation radius ρ', nonNegativeNumber, 0.1)
    .option('--seeds <n>', 'seeds to average over', positiveInteger, 2)
    .option('--batch <n>', 'batch size', positiveInteger, 64)
    .option('--backend <name>', 'TF.js backend (default: tensorflow if installed, else wasm, else cpu)')
    .option('--out <dir>', 'results folder (default: results/coord-<time>)')
    .option('--no-perf', 'skip the step-time ratios (measured for --model mlp only)')
    .option('--perf-width <n>', 'MLP width for the step-time ratios', positiveInteger, 1024)
    .option('--perf-rounds <n>', 'timed rounds per step kind (median)', positiveInteger, 10);
  addRuleModuleOption(command);
  addRulesHelp(command, rules);
  command.action(async (options: CoordOptions) => {
    // Results are written only at the end: a Ctrl-C stops at once (between two models) and leaves nothing.
    stopAtOnceOnInterrupt(STOPPED);
    if (options.widths && options.widths.length < 2) {
      program.error(`error: --widths needs at least two widths to fit a slope, got ${options.widths.join(',')}`);
    }
    const available = await loadRules({
      modules: absoluteRuleModules(options.ruleModule, userDirectory()),
      cwd: userDirectory(),
    });
    available.descriptor(options.rule);
    const backend = await initBackend({ backend: options.backend });
    const dataset = await loadDataset({ name: 'mnist' });
    const widths = [...(options.widths ?? DEFAULT_WIDTHS[options.model])].sort((a, b) => a - b);
    const config = {
      model: options.model,
      rule: options.rule,
      presets: options.presets,
      widths,
      baseWidth: options.baseWidth ?? (widths[0] as number),
      steps: options.steps,
      learningRate: options.lr,
      rho: options.rho,
      seeds: options.seeds,
      batch: options.batch,
    };
    const bar = progressBar({
      label: 'coord check',
      format: '{value}/{total} runs {label} | ETA {eta_formatted}',
      clearOnComplete: true,
    });
    bar.start(config.presets.length * widths.length * config.seeds, 0, { label: '' });
    const started = performance.now();
    const result = await runCoordCheck(config, available, dataset, (done, _total, label) =>
      bar.update(done, { label }),
    );
    bar.stop();
    const seconds = (performance.now() - started) / 1000;
    const table = slopeTable(result);
    process.stdout.write(
      `\nPerturbation coordinate check: rule ${config.rule}, MNIST, ${COORD_WIDTH_MEANING[config.model]}, widths ${widths.join(', ')}, ` +
        `base width ${config.baseWidth}, ${config.steps} SAM steps, η=${config.learningRate}, ρ=${config.rho}, ` +
        `${config.seeds} seeds, backend ${backend} (${seconds.toFixed(1)} s)\n` +
        'log-log slope of each layer’s effective perturbation against width (≈ 0: perturbed effectively at every width; ' +
        'a group of layers shows its mean and range; * an exponent that has not settled):\n\n' +
        `${table}\n\nµP's own coordinates, the update effect Δw·x:\n\n${slopeTable(result, { quantity: 'update' })}\n`,
    );
    let perf: ReturnType<typeof measureModelPerf> | undefined;
    if (options.perf && config.model === 'mlp') {
      perf = runInterruptibly(
        () =>
          measureModelPerf(
            {
              ...PERF_MODELS.mlp,
              widthMult: options.perfWidth / MLP_REFERENCE_WIDTH,
              label: `MLP 784→${options.perfWidth}→${options.perfWidth}→10`,
            },
            { rules: [options.rule], registry: available, rounds: options.perfRounds, warmup: 3 },
          ),
        STOPPED,
      );
      const time = (step: string) => perf?.steps.find((entry) => entry.step === step);
      const sgd = time('sgd');
      const naive = time(`${options.rule} naive`);
      const mup2 = time(`${options.rule} mup2`);
      if (sgd && naive && mup2) {
        process.stdout.write(
          `\nStep time, ${perf.label}, batch ${perf.batch}, ${backend}, median of ${options.perfRounds}: ` +
            `SGD ${sgd.milliseconds.toFixed(1)} ms, ${options.rule} naive ${naive.milliseconds.toFixed(1)} ms, ` +
            `${options.rule} mup2 ${mup2.milliseconds.toFixed(1)} ms\n` +
            `  ${options.rule.toUpperCase()}/SGD ${mup2.overSgd.toFixed(2)} (target ≤ 2.05), ` +
            `mup2/naive ${(mup2.milliseconds / naive.milliseconds).toFixed(2)} (target ≤ 1.03), ` +
            `tensor growth per step ${perf.tensorGrowthPerStep}\n`,
        );
      }
    }
    // Created only now: a Ctrl-C (which stops this command at once, it has written nothing before here) leaves
    // no empty results folder behind.
    const out = await createResultsDir('coord', options.out);
    await writeFileAtomically(
      join(out, 'coord.json'),
      `${JSON.stringify({ command: 'coord', config, backend, seconds, ...result, perf }, null, 2)}\n`,
      'the measurements printed above are all there is; nothing was written',
    );
    await writeFileAtomically(
      join(out, 'coord-slopes.md'),
      `${table}\n\nBy layer:\n\n${slopeTable(result, { by: 'layer' })}\n`,
      'coord.json is written',
    );
    const chart = await renderChart(
      coordChart(result, {
        title: `Effective perturbation of ${config.rule.toUpperCase()} against width (MNIST, ${config.model})`,
      }) as unknown as TopLevelSpec,
      join(out, 'coord'),
    );
    process.stdout.write(`\nResults: ${out}\n  ${join(out, 'coord.json')}\n  ${chart.svg}\n  ${chart.png}\n`);
  });
}
