import { InvalidOptionError, PRESET_NAMES, type PresetName, parsePreset } from '@mup2/core';
import { DATASET_NAMES, type DatasetName, isDatasetName } from '../datasets/image-dataset.js';
import { assertLabelNoise } from '../datasets/label-noise.js';
import { MODEL_NAMES, type ModelName } from '../models/create-model.js';
import { NO_RULE, type RuleRegistry } from '../rules/rule-registry.js';

/** The optimizer that takes the descent step: SGD with momentum, or Adam(W). Both get µP learning rates under a µP preset. */
export const OPTIMIZER_NAMES = ['sgd', 'adam'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/** 'constant': η throughout; 'cosine': η · ½(1 + cos(π t / T)) at step t of T, down to 0 at the end. */
export const LR_SCHEDULES = ['constant', 'cosine'] as const;
export type LrSchedule = (typeof LR_SCHEDULES)[number];

/** Where `trainRun` saves a checkpoint after every epoch, and whether it continues from the one found there. */
export interface CheckpointOptions {
  readonly dir: string;
  /** Continue from the checkpoint in `dir` if there is one (none: start fresh). Default false, and then `dir` must hold no checkpoint. */
  readonly resume?: boolean;
}

export interface TrainConfig {
  readonly model: ModelName;
  /** Width relative to the architecture's reference width (see createModel). */
  readonly widthMult: number;
  /** The width multiplier at which µP equals SP. Default: the architecture's own. */
  readonly baseWidthMult?: number;
  /** 'sgd': the base optimizer alone; otherwise SamOptimizer with the installed perturbation rule of this name. */
  readonly rule: string;
  /** The rule's own options (those its descriptor declares, e.g. asam's `eta`). Default: none (the rule's defaults). */
  readonly ruleOptions?: Readonly<Record<string, number>>;
  /**
   * Where rules that are not installed come from: `--rule-module` specs (package names or paths).
   * Not part of what identifies a run, like dataDir.
   */
  readonly ruleModules?: readonly string[];
  /** Parameterization and perturbation scaling, as in the paper's Figure 1 (DESIGN.md §5). */
  readonly preset: PresetName;
  /** Learning rate η (at base width; µP presets scale it per layer). */
  readonly lr: number;
  /** Perturbation radius ρ (not used by rule 'sgd'). */
  readonly rho: number;
  /**
   * m-sharpness: each chunk of this many examples of a batch gets its own ε, and the descent
   * gradient is the mean of the chunks' gradients at their perturbed weights. Default: the whole batch (SAM).
   */
  readonly mSharpness?: number;
  /** ε is computed every this many steps and reused in between (each reuse step costs about one SGD step). Default 1. */
  readonly perturbationInterval?: number;
  readonly epochs: number;
  readonly batch: number;
  /** Fixes the initialisation and every epoch's batch order and augmentation. */
  readonly seed: number;
  readonly dataset: DatasetName;
  readonly dataDir?: string;
  /**
   * Records each CIFAR-10 batch file must hold (default 10,000, the official batches; null: any).
   * Says what the files are like, not which run this is: not part of a run's identity, like dataDir.
   */
  readonly cifar10BatchRecords?: number | null;
  /** Keep at most this many examples of each split. */
  readonly limit?: number;
  /** Keep at most this many test examples instead (default: `limit`). */
  readonly testLimit?: number;
  /**
   * Symmetric label noise: this fraction of the training labels (after `limit`) is replaced by a
   * uniformly drawn other class, the same ones for every run of a seed; test labels stay true. Default 0.
   */
  readonly labelNoise?: number;
  /** Default: 'adam' (AdamW) for the ViT, 'sgd' with momentum for the others. */
  readonly optimizer?: OptimizerName;
  /** How the learning rate changes over the run. Default 'constant'. */
  readonly lrSchedule?: LrSchedule;
  /** Evaluate the test split after every k-th epoch and after the last. Default 1 (every epoch). */
  readonly evalEvery?: number;
  /** SGD momentum. Default 0.9; SGD only. */
  readonly momentum?: number;
  /** SGD: L2 penalty added to the gradient; Adam: decoupled (AdamW). Default 0. */
  readonly weightDecay?: number;
  /** Random crop and horizontal flip of training images. Default: true for cifar10, false otherwise. */
  readonly augment?: boolean;
  readonly checkpoint?: CheckpointOptions;
}

/** A validated TrainConfig with every default filled in: what a run and its checkpoint are identified by. */
export interface ResolvedTrainConfig {
  readonly model: ModelName;
  readonly widthMult: number;
  readonly baseWidthMult: number | null;
  readonly rule: string;
  readonly ruleOptions: Readonly<Record<string, number>>;
  readonly preset: PresetName;
  readonly lr: number;
  readonly rho: number;
  /** null: the whole batch. */
  readonly mSharpness: number | null;
  readonly perturbationInterval: number;
  readonly epochs: number;
  readonly batch: number;
  readonly seed: number;
  readonly dataset: DatasetName;
  readonly dataDir: string | null;
  readonly limit: number | null;
  readonly testLimit: number | null;
  /** 0: the true labels. */
  readonly labelNoise: number;
  readonly optimizer: OptimizerName;
  readonly lrSchedule: LrSchedule;
  readonly evalEvery: number;
  /** 0 for Adam. */
  readonly momentum: number;
  readonly weightDecay: number;
  readonly augment: boolean;
}

const CONFIG_KEYS = [
  'model',
  'widthMult',
  'baseWidthMult',
  'rule',
  'ruleOptions',
  'ruleModules',
  'preset',
  'lr',
  'rho',
  'mSharpness',
  'perturbationInterval',
  'epochs',
  'batch',
  'seed',
  'dataset',
  'dataDir',
  'cifar10BatchRecords',
  'limit',
  'testLimit',
  'labelNoise',
  'optimizer',
  'lrSchedule',
  'evalEvery',
  'momentum',
  'weightDecay',
  'augment',
  'checkpoint',
] as const satisfies readonly (keyof TrainConfig)[];

/** Architectures trained with Adam(W) by default, as in the literature; the rest with SGD and momentum. */
const ADAM_MODELS: readonly string[] = ['vit'];

/** The optimizer a model trains with unless told otherwise. */
export function defaultOptimizerFor(model: string): OptimizerName {
  return ADAM_MODELS.includes(model) ? 'adam' : 'sgd';
}

/** A learning rate that trains the zoo's models at base width: 0.1 for SGD with momentum 0.9, 1e-3 for Adam. */
export function defaultLearningRate(optimizer: OptimizerName): number {
  return optimizer === 'adam' ? 1e-3 : 0.1;
}

const show = (value: unknown) => (typeof value === 'string' ? `'${value}'` : String(value));
const fail = (message: string): never => {
  throw new InvalidOptionError(`trainRun: ${message}`);
};
const oneOf = (key: string, value: unknown, allowed: readonly string[]) => {
  if (typeof value !== 'string' || !allowed.includes(value)) {
    fail(`unknown ${key} ${show(value)}; expected one of ${allowed.map((name) => `'${name}'`).join(', ')}.`);
  }
};
const positiveNumber = (key: string, value: unknown) => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    fail(`${key} must be a positive finite number, got ${show(value)}.`);
  }
};
const nonNegativeNumber = (key: string, value: unknown) => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail(`${key} must be a finite number >= 0, got ${show(value)}.`);
  }
};
const positiveInteger = (key: string, value: unknown) => {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    fail(`${key} must be a positive integer, got ${show(value)}.`);
  }
};

/**
 * Checks every field of a TrainConfig and fills in the defaults. Throws an
 * InvalidOptionError naming the field and the value it got. With `rules`, the rule
 * must be one of them (or 'sgd') and its options ones it declares.
 */
export function resolveTrainConfig(config: TrainConfig, rules?: RuleRegistry): ResolvedTrainConfig {
  if (typeof config !== 'object' || config === null) fail(`expected a config object, got ${show(config)}.`);
  for (const key of Object.keys(config)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
      fail(`unknown config key '${key}'; expected some of ${CONFIG_KEYS.join(', ')}.`);
    }
  }
  oneOf('model', config.model, MODEL_NAMES);
  positiveNumber('widthMult', config.widthMult);
  if (config.baseWidthMult !== undefined) positiveNumber('baseWidthMult', config.baseWidthMult);
  if (typeof config.rule !== 'string' || config.rule === '')
    fail(`rule must be a rule name, got ${show(config.rule)}.`);
  if (config.rule !== NO_RULE && rules !== undefined && !rules.names.includes(config.rule)) {
    const failed = rules.problems.map((problem) => `; ${problem.source} did not load: ${problem.message}`).join('');
    fail(
      `unknown rule ${show(config.rule)}; expected one of ${[NO_RULE, ...rules.names].map((name) => `'${name}'`).join(', ')} ` +
        `(the installed rule packages${failed}); a rule that is not installed loads with ruleModules (--rule-module).`,
    );
  }
  const perturbs = config.rule !== NO_RULE;
  const onlyWithRule = (key: string) => fail(`${key} applies to a perturbation rule, not to rule '${NO_RULE}'.`);
  if (config.ruleOptions !== undefined) {
    if (typeof config.ruleOptions !== 'object' || config.ruleOptions === null || Array.isArray(config.ruleOptions)) {
      fail(`ruleOptions must be an object of numbers, got ${show(config.ruleOptions)}.`);
    }
    if (!perturbs && Object.keys(config.ruleOptions).length > 0) onlyWithRule('ruleOptions');
    for (const [option, value] of Object.entries(config.ruleOptions)) {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        fail(`ruleOptions.${option} must be a finite number, got ${show(value)}.`);
      }
    }
    if (perturbs && rules !== undefined) {
      try {
        rules.checkOptions(config.rule, config.ruleOptions);
      } catch (error) {
        fail((error as Error).message);
      }
    }
  }
  if (config.ruleModules !== undefined) {
    if (
      !Array.isArray(config.ruleModules) ||
      config.ruleModules.some((spec) => typeof spec !== 'string' || spec === '')
    ) {
      fail(`ruleModules must be a list of package names or paths, got ${show(JSON.stringify(config.ruleModules))}.`);
    }
  }
  if (config.mSharpness !== undefined) {
    positiveInteger('mSharpness', config.mSharpness);
    if (!perturbs) onlyWithRule('mSharpness');
  }
  if (config.perturbationInterval !== undefined) {
    positiveInteger('perturbationInterval', config.perturbationInterval);
    if (!perturbs && config.perturbationInterval !== 1) onlyWithRule('perturbationInterval');
  }
  if (config.mSharpness !== undefined && (config.perturbationInterval ?? 1) > 1) {
    fail(
      `mSharpness ${config.mSharpness} and perturbationInterval ${config.perturbationInterval} cannot be combined ` +
        '(each chunk has its own ε, and only one ε is kept for reuse); choose one.',
    );
  }
  oneOf('preset', config.preset, PRESET_NAMES);
  parsePreset(config.preset);
  positiveNumber('lr', config.lr);
  nonNegativeNumber('rho', config.rho);
  positiveInteger('epochs', config.epochs);
  positiveInteger('batch', config.batch);
  if (typeof config.seed !== 'number' || !Number.isSafeInteger(config.seed) || config.seed < 0) {
    fail(`seed must be an integer >= 0, got ${show(config.seed)}.`);
  }
  if (!isDatasetName(config.dataset)) oneOf('dataset', config.dataset, DATASET_NAMES);
  if (config.dataDir !== undefined && (typeof config.dataDir !== 'string' || config.dataDir === '')) {
    fail(`dataDir must be a non-empty path, got ${show(config.dataDir)}.`);
  }
  if (config.cifar10BatchRecords !== undefined && config.cifar10BatchRecords !== null) {
    positiveInteger('cifar10BatchRecords', config.cifar10BatchRecords);
  }
  if (config.limit !== undefined) positiveInteger('limit', config.limit);
  if (config.testLimit !== undefined) positiveInteger('testLimit', config.testLimit);
  if (config.labelNoise !== undefined) {
    try {
      assertLabelNoise(config.labelNoise);
    } catch (error) {
      fail((error as Error).message);
    }
  }
  const optimizer = config.optimizer ?? defaultOptimizerFor(config.model);
  oneOf('optimizer', optimizer, OPTIMIZER_NAMES);
  if (config.lrSchedule !== undefined) oneOf('lrSchedule', config.lrSchedule, LR_SCHEDULES);
  if (config.evalEvery !== undefined) positiveInteger('evalEvery', config.evalEvery);
  if (config.momentum !== undefined) {
    if (optimizer !== 'sgd') fail(`momentum applies to optimizer 'sgd' only, got it with '${optimizer}'.`);
    if (typeof config.momentum !== 'number' || !(config.momentum >= 0 && config.momentum < 1)) {
      fail(`momentum must be a number in [0, 1), got ${show(config.momentum)}.`);
    }
  }
  if (config.weightDecay !== undefined) nonNegativeNumber('weightDecay', config.weightDecay);
  if (config.augment !== undefined && typeof config.augment !== 'boolean') {
    fail(`augment must be true or false, got ${show(config.augment)}.`);
  }
  if (config.checkpoint !== undefined) {
    const { dir, resume } = config.checkpoint ?? {};
    if (typeof dir !== 'string' || dir === '') fail(`checkpoint.dir must be a non-empty path, got ${show(dir)}.`);
    if (resume !== undefined && typeof resume !== 'boolean') {
      fail(`checkpoint.resume must be true or false, got ${show(resume)}.`);
    }
  }
  return {
    model: config.model,
    widthMult: config.widthMult,
    baseWidthMult: config.baseWidthMult ?? null,
    rule: config.rule,
    // Sorted, so that the same options given in another order identify the same run.
    ruleOptions: Object.fromEntries(Object.entries(config.ruleOptions ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))),
    preset: config.preset,
    lr: config.lr,
    rho: config.rho,
    mSharpness: config.mSharpness ?? null,
    perturbationInterval: config.perturbationInterval ?? 1,
    epochs: config.epochs,
    batch: config.batch,
    seed: config.seed,
    dataset: config.dataset,
    dataDir: config.dataDir ?? null,
    limit: config.limit ?? null,
    testLimit: config.testLimit ?? null,
    labelNoise: config.labelNoise ?? 0,
    optimizer,
    lrSchedule: config.lrSchedule ?? 'constant',
    evalEvery: config.evalEvery ?? 1,
    momentum: optimizer === 'sgd' ? (config.momentum ?? 0.9) : 0,
    weightDecay: config.weightDecay ?? 0,
    augment: config.augment ?? config.dataset === 'cifar10',
  };
}

/**
 * The fields whose change makes a checkpoint belong to another run. `epochs`
 * may grow (train longer), and `dataDir` says where the files are, not what they are.
 */
export const RUN_IDENTITY_KEYS = [
  'model',
  'widthMult',
  'baseWidthMult',
  'rule',
  'ruleOptions',
  'preset',
  'lr',
  'rho',
  'mSharpness',
  'perturbationInterval',
  'batch',
  'seed',
  'dataset',
  'limit',
  'testLimit',
  'labelNoise',
  'optimizer',
  'lrSchedule',
  'momentum',
  'weightDecay',
  'augment',
] as const satisfies readonly (keyof ResolvedTrainConfig)[];
