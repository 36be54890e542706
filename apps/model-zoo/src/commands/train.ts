import { resolve } from 'node:path';
import { initBackend, PRESET_NAMES, type PresetName } from '@mup2/core';
import { type Command, Option } from 'commander';
import { DATASET_NAMES, type DatasetName } from '../datasets/image-dataset.js';
import { MODEL_NAMES, type ModelName } from '../models/create-model.js';
import { loadRules } from '../rules/load-rules.js';
import { NO_RULE, type RuleRegistry } from '../rules/rule-registry.js';
import { checkTrainingMemory, DEFAULT_MEMORY_FRACTION, type MemoryLimit } from '../training/memory-limit.js';
import {
  defaultLearningRate,
  defaultOptimizerFor,
  LR_SCHEDULES,
  type LrSchedule,
  OPTIMIZER_NAMES,
  type OptimizerName,
  resolveTrainConfig,
  type TrainConfig,
} from '../training/train-config.js';
import { trainRun } from '../training/train-run.js';
import { handleInterrupts } from './interrupts.js';
import {
  memoryLimitOption,
  nonNegativeInteger,
  nonNegativeNumber,
  positiveInteger,
  positiveNumber,
} from './option-parsers.js';
import { absoluteRuleModules, addRuleModuleOption, addRulesHelp, ruleOption } from './rule-cli.js';
import { percent, trainProgress } from './train-progress.js';

interface TrainOptions {
  model: ModelName;
  widthMult: number;
  baseWidthMult?: number;
  rule: string;
  ruleModule?: string[];
  ruleOption?: Record<string, number>;
  preset: PresetName;
  optimizer?: OptimizerName;
  lr?: number;
  mSharpness?: number;
  perturbationInterval?: number;
  rho?: number;
  momentum?: number;
  weightDecay?: number;
  epochs: number;
  batch: number;
  seed: number;
  dataset: DatasetName;
  dataDir?: string;
  /** A count, or 'any' (commander turns a parser's null into '', so 'any' stays a word until here). */
  cifar10BatchRecords?: number | 'any';
  limit?: number;
  testLimit?: number;
  labelNoise?: number;
  lrSchedule?: LrSchedule;
  evalEvery?: number;
  augment?: boolean;
  backend?: string;
  checkpoint?: string;
  resume?: boolean;
  memoryLimit?: MemoryLimit;
}

/**
 * Paths on the command line are the user's: under `pnpm zoo` the process runs
 * in apps/model-zoo, and pnpm passes the directory it was called from as INIT_CWD.
 */
function userPath(path: string): string {
  const base = process.env.npm_lifecycle_event === 'zoo' ? (process.env.INIT_CWD ?? process.cwd()) : process.cwd();
  return resolve(base, path);
}

/** `zoo train`; `rules` (the installed ones) are listed in its help. */
export function registerTrainCommand(program: Command, rules: RuleRegistry): void {
  const command = program
    .command('train')
    .description(
      'Train a zoo model with SGD or a SAM variant in one of the paper’s parameterizations, printing test accuracy ' +
        'after every epoch. With --checkpoint, saves after every epoch; --resume continues a run bit-for-bit.',
    )
    .addOption(new Option('--model <name>', 'architecture').choices(MODEL_NAMES).default('mlp'))
    .option('--width-mult <x>', 'width relative to the reference width (MLP: 64 units)', positiveNumber, 1)
    .option(
      '--base-width-mult <x>',
      'width multiplier at which µP equals SP (default: the model’s own)',
      positiveNumber,
    )
    .option(
      '--rule <name>',
      `perturbation rule (listed below); '${NO_RULE}' trains with the base optimizer alone`,
      'sam',
    )
    .option('--rule-option <name=x>', 'an option of the rule’s own, e.g. eta=0.02 for asam (repeatable)', ruleOption)
    .addOption(
      new Option('--preset <name>', 'parameterization and perturbation scaling').choices(PRESET_NAMES).default('mup2'),
    )
    .addOption(
      new Option('--optimizer <name>', 'base optimizer (default: adam for vit, sgd with momentum otherwise)').choices(
        OPTIMIZER_NAMES,
      ),
    )
    .option('--lr <x>', 'learning rate η at base width (default: 0.1 for sgd, 0.001 for adam)', positiveNumber)
    .addOption(
      new Option('--lr-schedule <name>', 'constant, or cosine (η decays to 0 over the run)')
        .choices(LR_SCHEDULES)
        .default('constant'),
    )
    .option('--rho <x>', 'perturbation radius ρ (default: the rule’s own, listed below)', nonNegativeNumber)
    .option(
      '--m-sharpness <m>',
      'm-sharpness: each chunk of m examples of a batch gets its own ε (default: the whole batch)',
      positiveInteger,
    )
    .option(
      '--perturbation-interval <k>',
      'compute ε every k steps and reuse it in between (a reuse step costs about one SGD step; default 1)',
      positiveInteger,
    )
    .option('--momentum <x>', 'SGD momentum (default 0.9)', nonNegativeNumber)
    .option('--weight-decay <x>', 'weight decay (SGD: L2 on the gradient; Adam: decoupled)', nonNegativeNumber)
    .option('--epochs <n>', 'epochs', positiveInteger, 5)
    .option('--batch <n>', 'batch size', positiveInteger, 128)
    .option('--seed <n>', 'seed of the initialisation and the batch order', nonNegativeInteger, 0)
    .addOption(new Option('--dataset <name>', 'data set').choices(DATASET_NAMES).default('mnist'))
    .option('--data-dir <dir>', 'folder of the data set’s files (fashion-mnist, cifar10)')
    .option(
      '--cifar10-batch-records <n>',
      'records each CIFAR-10 batch file holds: 10000 (the official batches, default), your own count, or any',
      (value: string) => (value === 'any' ? 'any' : positiveInteger(value)),
    )
    .option('--limit <n>', 'keep at most this many examples of each split', positiveInteger)
    .option(
      '--eval-every <k>',
      'evaluate the test split every k epochs and after the last (default 1)',
      positiveInteger,
    )
    .option('--test-limit <n>', 'keep at most this many test examples instead (default: --limit)', positiveInteger)
    .option(
      '--label-noise <fraction>',
      'replace this fraction of the training labels by another class, the same ones for every run of a seed (default 0)',
      nonNegativeNumber,
    )
    .option('--augment', 'random crop and flip of training images (default for cifar10)')
    .option('--no-augment', 'no augmentation')
    .option('--backend <name>', 'TF.js backend (default: tensorflow if installed, else wasm, else cpu)')
    .option('--checkpoint <dir>', 'save a checkpoint in this folder after every epoch (the last two are kept)')
    .option('--resume', 'continue from the checkpoint in --checkpoint, if there is one')
    .option(
      '--memory-limit <size>',
      `refuse a run whose estimated memory (parameters, optimizer state, activations of a batch) is larger: ` +
        `a size (8G, 512M), a share of the available memory (90%), or none (default ${DEFAULT_MEMORY_FRACTION * 100}%)`,
      memoryLimitOption,
    );
  addRuleModuleOption(command);
  addRulesHelp(command, rules);
  command.action(async (options: TrainOptions, command: Command) => {
    if (options.resume && options.checkpoint === undefined) {
      command.error('error: --resume needs --checkpoint <dir>, the folder to resume from.');
    }
    const ruleModules = absoluteRuleModules(options.ruleModule, userPath('.'));
    const available = await loadRules({ modules: ruleModules, cwd: userPath('.') });
    const rho = options.rho ?? (options.rule === NO_RULE ? 0 : available.descriptor(options.rule).defaults.rho);
    const optimizer = options.optimizer ?? defaultOptimizerFor(options.model);
    const config: TrainConfig = {
      model: options.model,
      widthMult: options.widthMult,
      ...(options.baseWidthMult !== undefined && { baseWidthMult: options.baseWidthMult }),
      rule: options.rule,
      ...(options.ruleOption !== undefined && { ruleOptions: options.ruleOption }),
      ...(ruleModules.length > 0 && { ruleModules }),
      preset: options.preset,
      optimizer,
      lr: options.lr ?? defaultLearningRate(optimizer),
      rho,
      ...(options.mSharpness !== undefined && { mSharpness: options.mSharpness }),
      ...(options.perturbationInterval !== undefined && { perturbationInterval: options.perturbationInterval }),
      ...(options.momentum !== undefined && { momentum: options.momentum }),
      ...(options.weightDecay !== undefined && { weightDecay: options.weightDecay }),
      epochs: options.epochs,
      batch: options.batch,
      seed: options.seed,
      dataset: options.dataset,
      ...(options.dataDir !== undefined && { dataDir: userPath(options.dataDir) }),
      ...(options.cifar10BatchRecords !== undefined && {
        cifar10BatchRecords: options.cifar10BatchRecords === 'any' ? null : options.cifar10BatchRecords,
      }),
      ...(options.limit !== undefined && { limit: options.limit }),
      ...(options.testLimit !== undefined && { testLimit: options.testLimit }),
      ...(options.labelNoise !== undefined && { labelNoise: options.labelNoise }),
      ...(options.lrSchedule !== undefined && { lrSchedule: options.lrSchedule }),
      ...(options.evalEvery !== undefined && { evalEvery: options.evalEvery }),
      ...(options.augment !== undefined && { augment: options.augment }),
      ...(options.checkpoint !== undefined && {
        checkpoint: { dir: userPath(options.checkpoint), resume: options.resume ?? false },
      }),
    };
    // Bad values, and a model too large for the memory, fail before the backend and the data are loaded.
    checkTrainingMemory(resolveTrainConfig(config, available), options.memoryLimit);
    const backend = await initBackend({ backend: options.backend });
    const write = (line: string) => process.stdout.write(`${line}\n`);
    const progress = trainProgress(write);
    const hooks = {
      ...progress,
      onStart: (start: Parameters<typeof progress.onStart>[0]) => {
        const c = start.config;
        write(
          `train ${c.model} (width mult ${c.widthMult}, ${start.parameters.toLocaleString('en-US')} parameters) on ${c.dataset} ` +
            `(${start.trainExamples} train${c.labelNoise > 0 ? ` with ${c.labelNoise * 100}% wrong labels` : ''} / ${start.testExamples} test), rule ${c.rule}, preset ${c.preset}, ` +
            `${c.optimizer}${c.optimizer === 'sgd' ? ` (momentum ${c.momentum})` : ''}, lr ${c.lr}, rho ${c.rho}, ` +
            `${c.mSharpness !== null ? `m-sharpness ${c.mSharpness}, ` : ''}` +
            `${c.perturbationInterval > 1 ? `ε every ${c.perturbationInterval} steps, ` : ''}` +
            `batch ${c.batch}, seed ${c.seed}, backend ${backend}`,
        );
        if (start.startEpoch > 0) {
          write(`resuming from ${config.checkpoint?.dir} after epoch ${start.startEpoch} of ${c.epochs}`);
        }
        progress.onStart(start);
      },
    };
    const interrupts = handleInterrupts({
      first:
        'stopping after this step: the epoch in progress is abandoned' +
        (config.checkpoint ? ', the checkpoint of the last finished epoch is kept (--resume continues from it)' : '') +
        '; Ctrl-C again to stop now',
      again: 'stopping now',
    });
    let result: Awaited<ReturnType<typeof trainRun>>;
    try {
      result = await trainRun(config, {
        ...hooks,
        signal: interrupts.signal,
        ...(options.memoryLimit !== undefined && { memoryLimit: options.memoryLimit }),
      });
    } finally {
      progress.stop();
      interrupts.dispose();
    }
    if (result.interruptedInEpoch !== undefined) {
      const done = result.epochs.length;
      write(
        `stopped in epoch ${result.interruptedInEpoch} of ${result.config.epochs}: ${done} epoch${done === 1 ? '' : 's'} done` +
          (done > 0 ? `, last test acc ${percent(result.finalTestAccuracy)}` : '') +
          (config.checkpoint && done > 0
            ? `; checkpoint of epoch ${done} in ${config.checkpoint.dir} (rerun with --resume to continue)`
            : '') +
          ` (${result.seconds.toFixed(1)} s).`,
      );
      process.exitCode = interrupts.exitCode;
      return;
    }
    if (result.diverged) {
      write(
        `diverged in epoch ${result.divergedAtEpoch}: the loss became NaN or infinite; stopped ` +
          `(best test acc ${percent(result.bestTestAccuracy)}, ${result.seconds.toFixed(1)} s).`,
      );
      return;
    }
    write(
      `done: final test acc ${percent(result.finalTestAccuracy)}, best ${percent(result.bestTestAccuracy)}, ` +
        `${result.seconds.toFixed(1)} s${config.checkpoint ? `, checkpoint in ${config.checkpoint.dir}` : ''}`,
    );
  });
}
