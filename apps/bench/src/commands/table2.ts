import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import {
  absoluteRuleModules,
  addRuleModuleOption,
  addRulesHelp,
  DATASET_NAMES,
  DEFAULT_FASHION_MNIST_DIR,
  handleInterrupts,
  loadRules,
  type MemoryLimit,
  memoryLimitOption,
  NO_RULE,
  RESNET18_BASE_WIDTH_MULT,
  type RuleRegistry,
  ruleOption,
  writeFileAtomically,
} from '@mup2/model-zoo';
import { type Command, Option } from 'commander';
import { commaList, nonNegativeNumber, positiveInteger } from '../cli-options.js';
import { table2Cells, table2Markdown } from '../experiments/table2.js';
import {
  TABLE2_FULL,
  TABLE2_QUICK,
  type Table2GridOptions,
  Table2OptionsError,
  table2BaseGrid,
} from '../experiments/table2-grid.js';
import { buildReport } from '../report/build-report.js';
import { createResultsDir, userDirectory } from '../results-dir.js';
import { parseGrid } from '../sweep/grid.js';
import type { SweepRow } from '../sweep/results-log.js';
import { runSweep, type SweepSummary } from '../sweep/run-sweep.js';
import { MEMORY_LIMIT_HELP, SWEEP_INTERRUPT_MESSAGES, sweepProgressBar } from './sweep.js';

interface Table2Options extends Table2GridOptions {
  dataset?: string;
  dataDir?: string;
  rules?: string[];
  rho?: Record<string, number>;
  ruleModule?: string[];
  workers: number;
  backend?: string;
  out?: string;
  memoryLimit?: MemoryLimit;
}

/** `bench table2`; `rules` (the installed ones) are listed in its help. */
export function registerTable2Command(program: Command, rules: RuleRegistry): void {
  const command = program
    .command('table2')
    .description(
      "The paper's Table 2: SGD and each perturbation rule (by default every installed one: SAM, SAM-ON and " +
        'elementwise ASAM in the paper) in SP and in µP² on ResNet-18 (SGD base with momentum), mean ± std test ' +
        'accuracy over seeds and the improvement over SGD, as Markdown, JSON and an HTML report. ' +
        'Each rule is its own resumable sweep in a subfolder, at its own radius (the rule’s default, or --rho rule=x).',
    )
    .option(
      '--quick',
      `ResNet-18 ×${TABLE2_QUICK.widthMult} (µP's base width) on ${TABLE2_QUICK.limit.toLocaleString('en')} Fashion-MNIST (else MNIST) images, ${TABLE2_QUICK.epochs} epochs, ${TABLE2_QUICK.seeds} seeds`,
      false,
    )
    .option(
      '--width-mult <x>',
      `ResNet-18 width multiplier, at least µP's base ${RESNET18_BASE_WIDTH_MULT} (paper: 4; default ${TABLE2_FULL.widthMult}, quick ${TABLE2_QUICK.widthMult})`,
      nonNegativeNumber,
    )
    .addOption(
      new Option(
        '--dataset <name>',
        'data set (default: cifar10 with --data-dir, else fashion-mnist if installed, else mnist)',
      ).choices(DATASET_NAMES),
    )
    .option('--data-dir <dir>', 'folder with the data set files (CIFAR-10 binary batches or Fashion-MNIST IDX)')
    .option(
      '--seeds <n>',
      `seeds per configuration (default ${TABLE2_FULL.seeds}, quick ${TABLE2_QUICK.seeds})`,
      positiveInteger,
    )
    .option(
      '--epochs <n>',
      `epochs per run (default ${TABLE2_FULL.epochs}, quick ${TABLE2_QUICK.epochs})`,
      positiveInteger,
    )
    .option(
      '--limit <n>',
      `train on the first n training images (default: all; quick ${TABLE2_QUICK.limit.toLocaleString('en')}); tested on as many test images unless --test-limit`,
      positiveInteger,
    )
    .option(
      '--test-limit <n>',
      'test on the first n test images (default: as many as --limit, else all)',
      positiveInteger,
    )
    .option('--batch <n>', `batch size (default ${TABLE2_FULL.batch}, quick ${TABLE2_QUICK.batch})`, positiveInteger)
    .option('--lr <x>', 'SGD learning rate (momentum 0.9, weight decay 5e-4)', nonNegativeNumber, 0.05)
    .option(
      '--rules <list>',
      `rules, comma-separated (default: ${NO_RULE} and every installed rule, listed below)`,
      commaList,
    )
    .option(
      '--rho <rule=x>',
      'radius of a rule at base width (repeatable; default: the rule’s own, listed below: the paper’s for its rules)',
      ruleOption,
    )
    .option('--workers <n>', 'worker threads', positiveInteger, Math.max(1, availableParallelism()))
    .option('--backend <name>', 'TF.js backend (default: tensorflow if installed, else wasm, else cpu)')
    .option('--out <dir>', 'results folder (default results/table2[-quick])')
    .option('--memory-limit <size>', MEMORY_LIMIT_HELP, memoryLimitOption);
  addRuleModuleOption(command);
  addRulesHelp(command, rules);
  command.action(async (options: Table2Options, command: Command) => {
    const fromUser = (path: string) => (isAbsolute(path) ? path : resolve(userDirectory(), path));
    const dataDir = options.dataDir === undefined ? undefined : fromUser(options.dataDir);
    const dataset =
      options.dataset ??
      (dataDir !== undefined ? 'cifar10' : existsSync(DEFAULT_FASHION_MNIST_DIR) ? 'fashion-mnist' : 'mnist');
    const base = (() => {
      try {
        return table2BaseGrid(options, dataset);
      } catch (error) {
        if (Table2OptionsError.isInstance(error)) command.error(`error: ${error.message}`);
        throw error;
      }
    })();
    const ruleModules = absoluteRuleModules(options.ruleModule, userDirectory());
    const registry = await loadRules({ modules: ruleModules, cwd: userDirectory() });
    const names = options.rules ?? [NO_RULE, ...registry.names];
    for (const [name, rho] of Object.entries(options.rho ?? {})) {
      if (!names.includes(name) || name === NO_RULE) {
        command.error(
          `error: --rho ${name}=${rho}: '${name}' is not a perturbing rule of this table (${names.join(', ')}).`,
        );
      }
      if (rho < 0) command.error(`error: --rho ${name}=${rho}: a radius must be >= 0.`);
    }
    const rules: Array<[string, number | undefined]> = names.map((name) => [
      name,
      name === NO_RULE ? undefined : (options.rho?.[name] ?? registry.descriptor(name).defaults.rho),
    ]);
    const layout = {
      order: names,
      labels: Object.fromEntries(registry.rules.map(({ descriptor }) => [descriptor.name, descriptor.label])),
    };
    // One grid per rule: each rule has its own radius, and a grid is a full product.
    const grids = rules.map(([rule, rho]) => ({
      rule,
      grid: parseGrid({ ...base, rules: [rule], ...(rho !== undefined && { rhos: [rho] }) }, registry),
    }));
    const out = await createResultsDir(options.quick ? 'table2-quick' : 'table2', options.out, { stamped: false });
    const rows: SweepRow[] = [];
    let seconds = 0;
    // Ctrl-C: the running cells finish and are written, then the command stops (exit 130) without the table.
    const interrupts = handleInterrupts(SWEEP_INTERRUPT_MESSAGES);
    for (const { rule, grid } of grids) {
      process.stderr.write(`table2: ${rule}\n`);
      const folder = join(out, rule);
      const bar = sweepProgressBar(folder);
      let summary: SweepSummary;
      try {
        summary = await runSweep(grid, {
          out: folder,
          workers: options.workers,
          ...(options.backend !== undefined && { backend: options.backend }),
          ...(dataDir !== undefined && { dataDir }),
          ...(options.memoryLimit !== undefined && { memoryLimit: options.memoryLimit }),
          ruleModules,
          signal: interrupts.signal,
          onProgress: (progress) => bar.update(progress),
        });
      } finally {
        bar.stop();
      }
      rows.push(...summary.rows);
      seconds += summary.seconds;
      if (interrupts.exitCode !== undefined) {
        process.stdout.write(
          `\nStopped: ${summary.rows.length} of ${summary.total} cells of ${folder} have a row; rerun the same command to resume.\n`,
        );
        process.exitCode = interrupts.exitCode;
        return;
      }
    }
    interrupts.dispose();
    const cells = table2Cells(rows, layout);
    const radii = rules
      .filter(([, rho]) => rho !== undefined)
      .map(([rule, rho]) => `${layout.labels[rule] ?? rule} ${rho}`)
      .join(', ');
    const markdown =
      `ResNet-18 ×${String(base.widths)} on ${dataset}, ${String(base.epochs)} epoch(s), SGD lr ${options.lr} ` +
      `(momentum 0.9, weight decay 5e-4), ρ: ${radii}; ` +
      `SP = sp-naive, µP² = mup2 (base width multiplier 0.5, zero readout). Test accuracy, mean ± std over seeds.\n\n` +
      table2Markdown(cells, layout);
    // The rows stay in each rule's folder: a rerun of the same command writes the table without training again.
    const kept = 'every cell’s row is kept; rerun the same command to write the table (no cell runs again)';
    await writeFileAtomically(join(out, 'table2.md'), `${markdown}\n`, kept);
    await writeFileAtomically(
      join(out, 'table2.json'),
      `${JSON.stringify({ command: 'table2', config: { ...base, rules }, seconds, cells }, null, 2)}\n`,
      kept,
    );
    process.stdout.write(`\n${markdown}\n\n`);
    const report = await buildReport(out);
    process.stdout.write(`Results: ${out}\nReport: ${report.html}\n`);
  });
}
