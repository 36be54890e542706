import { PRESET_NAMES, PRESETS, type PresetName } from '@mup2/core';
import {
  DATASET_NAMES,
  type DatasetName,
  LR_SCHEDULES,
  type LrSchedule,
  MODEL_NAMES,
  type ModelName,
  OPTIMIZER_NAMES,
  type OptimizerName,
  RULE_NAMES,
  type RuleName,
  type TrainConfig,
} from '@mup2/model-zoo';
import { canonicalJson, sha256Hex } from './canonical-json.js';
import { cellId } from './cell-id.js';
import { SweepError } from './sweep-error.js';

/**
 * A sweep grid in canonical form: every list deduplicated and sorted (names in
 * the order of their registry), every setting filled in (null: the trainer's
 * default). Two grids that run the same cells have the same canonical form and
 * so the same hash. Where the data lives (dataDir) is not part of it.
 */
export interface SweepGrid {
  readonly models: readonly ModelName[];
  readonly datasets: readonly DatasetName[];
  readonly rules: readonly RuleName[];
  readonly presets: readonly PresetName[];
  /** Width multipliers (the MLP has 64 units per hidden layer at 1). */
  readonly widths: readonly number[];
  readonly lrs: readonly number[];
  /** Empty when every rule is 'sgd', which has no radius. */
  readonly rhos: readonly number[];
  readonly seeds: readonly number[];
  readonly epochs: readonly number[];
  readonly batches: readonly number[];
  readonly baseWidthMult: number | null;
  readonly limit: number | null;
  /** Test examples kept (null: as many as `limit`). */
  readonly testLimit: number | null;
  readonly optimizer: OptimizerName | null;
  readonly lrSchedule: LrSchedule | null;
  /** Evaluate the test split every k epochs and after the last (null: every epoch). */
  readonly evalEvery: number | null;
  readonly momentum: number | null;
  readonly weightDecay: number | null;
}

/**
 * What one cell trains: a TrainConfig of @mup2/model-zoo without where the files are
 * (dataDir), checkpoints or augmentation (the trainer's per-dataset default), which are
 * not what a cell is identified by. rho is 0 for rule 'sgd'.
 */
export type CellConfig = Omit<TrainConfig, 'dataDir' | 'checkpoint' | 'augment'>;

export interface SweepCell {
  /** cellId(config). */
  readonly id: string;
  readonly config: CellConfig;
}

/** A grid as written by a user (flags or a grid file): any member may be missing, a list may be one value or a comma list. */
export type SweepGridInput = { readonly [K in keyof SweepGrid]?: unknown };

type ListKey = 'models' | 'datasets' | 'rules' | 'presets' | 'widths' | 'lrs' | 'rhos' | 'seeds' | 'epochs' | 'batches';
type SettingKey = Exclude<keyof SweepGrid, ListKey>;

export const GRID_LIST_KEYS = [
  'models',
  'datasets',
  'rules',
  'presets',
  'widths',
  'lrs',
  'rhos',
  'seeds',
  'epochs',
  'batches',
] as const satisfies readonly ListKey[];
export const GRID_SETTING_KEYS = [
  'baseWidthMult',
  'limit',
  'testLimit',
  'optimizer',
  'lrSchedule',
  'evalEvery',
  'momentum',
  'weightDecay',
] as const satisfies readonly SettingKey[];
export const GRID_KEYS: readonly (keyof SweepGrid)[] = [...GRID_LIST_KEYS, ...GRID_SETTING_KEYS];

/** The lists a grid gets for members it leaves out: one SGD and one SAM run of the base-width MLP on MNIST under µP². */
export const DEFAULT_GRID_LISTS = {
  models: ['mlp'],
  datasets: ['mnist'],
  rules: ['sgd', 'sam'],
  presets: ['mup2'],
  widths: [1],
  lrs: [0.1],
  rhos: [0.1],
  seeds: [0],
  epochs: [1],
  batches: [64],
} as const satisfies { readonly [K in ListKey]: SweepGrid[K] };

const show = (value: unknown) => (typeof value === 'string' ? `'${value}'` : (JSON.stringify(value) ?? String(value)));

/** A list member as given: an array, one value, or a comma-separated string (from a flag). */
function listItems(key: string, value: unknown): unknown[] {
  const items =
    typeof value === 'string' ? value.split(',').map((item) => item.trim()) : Array.isArray(value) ? value : [value];
  if (items.length === 0 || (typeof value === 'string' && value.trim() === '')) {
    throw new SweepError(`grid: ${key} is empty; give at least one value.`);
  }
  const blank = items.findIndex((item) => item === '' || item === null || item === undefined);
  if (blank >= 0) throw new SweepError(`grid: ${key} has an empty item (item ${blank + 1} of ${show(value)}).`);
  return items;
}

function toNumber(key: string, item: unknown): number {
  const parsed = typeof item === 'number' ? item : typeof item === 'string' ? Number(item) : Number.NaN;
  if (!Number.isFinite(parsed)) throw new SweepError(`grid: ${key} must hold numbers, got ${show(item)}.`);
  return parsed;
}

interface NumberRule {
  readonly test: (value: number) => boolean;
  readonly expected: string;
}
const POSITIVE: NumberRule = { test: (value) => value > 0, expected: 'positive numbers' };
const NON_NEGATIVE: NumberRule = { test: (value) => value >= 0, expected: 'numbers >= 0' };
const POSITIVE_INTEGER: NumberRule = {
  test: (value) => Number.isSafeInteger(value) && value >= 1,
  expected: 'positive integers',
};
const NON_NEGATIVE_INTEGER: NumberRule = {
  test: (value) => Number.isSafeInteger(value) && value >= 0,
  expected: 'integers >= 0',
};

const NUMBER_LISTS = {
  widths: POSITIVE,
  lrs: POSITIVE,
  rhos: NON_NEGATIVE,
  seeds: NON_NEGATIVE_INTEGER,
  epochs: POSITIVE_INTEGER,
  batches: POSITIVE_INTEGER,
} as const;

function numberList(key: keyof typeof NUMBER_LISTS, value: unknown): number[] {
  const rule = NUMBER_LISTS[key];
  const numbers = listItems(key, value).map((item) => {
    const parsed = toNumber(key, item);
    if (!rule.test(parsed)) throw new SweepError(`grid: ${key} must hold ${rule.expected}, got ${show(item)}.`);
    return parsed;
  });
  return [...new Set(numbers)].sort((a, b) => a - b);
}

function nameList<T extends string>(key: string, value: unknown, allowed: readonly T[]): T[] {
  const names = listItems(key, value).map((item) => {
    if (typeof item !== 'string' || !(allowed as readonly string[]).includes(item)) {
      throw new SweepError(`grid: unknown ${key} name ${show(item)}; expected some of ${allowed.join(', ')}.`);
    }
    return item as T;
  });
  return allowed.filter((name) => names.includes(name));
}

function nameSetting<T extends string>(key: SettingKey, value: unknown, allowed: readonly T[]): T | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new SweepError(`grid: unknown ${key} ${show(value)}; expected one of ${allowed.join(', ')}.`);
  }
  return value as T;
}

function setting(key: SettingKey, value: unknown, rule: NumberRule): number | null {
  if (value === undefined || value === null) return null;
  const parsed = toNumber(key, value);
  if (!rule.test(parsed)) throw new SweepError(`grid: ${key} must be one of ${rule.expected}, got ${show(value)}.`);
  return parsed;
}

/**
 * Checks a grid as a user wrote it and brings it to canonical form. Throws a
 * SweepError naming the member and the value for unknown members, empty lists,
 * values that are not numbers and unknown names.
 */
export function parseGrid(input: SweepGridInput): SweepGrid {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new SweepError(`grid: expected an object of lists, got ${show(input)}.`);
  }
  for (const key of Object.keys(input)) {
    if (!(GRID_KEYS as readonly string[]).includes(key)) {
      throw new SweepError(`grid: unknown member '${key}'; expected some of ${GRID_KEYS.join(', ')}.`);
    }
  }
  const given = <K extends ListKey>(key: K): unknown => input[key] ?? DEFAULT_GRID_LISTS[key];
  const rules = nameList('rules', given('rules'), RULE_NAMES);
  const rhos = numberList('rhos', given('rhos'));
  const momentum = setting('momentum', input.momentum, NON_NEGATIVE);
  if (momentum !== null && momentum >= 1) throw new SweepError(`grid: momentum must be in [0, 1), got ${momentum}.`);
  return {
    models: nameList('models', given('models'), MODEL_NAMES),
    datasets: nameList('datasets', given('datasets'), DATASET_NAMES),
    rules,
    presets: nameList('presets', given('presets'), PRESET_NAMES),
    widths: numberList('widths', given('widths')),
    lrs: numberList('lrs', given('lrs')),
    // SGD has no radius: a grid of SGD runs alone is the same grid whatever radii it names.
    rhos: rules.some((rule) => rule !== 'sgd') ? rhos : [],
    seeds: numberList('seeds', given('seeds')),
    epochs: numberList('epochs', given('epochs')),
    batches: numberList('batches', given('batches')),
    baseWidthMult: setting('baseWidthMult', input.baseWidthMult, POSITIVE),
    limit: setting('limit', input.limit, POSITIVE_INTEGER),
    testLimit: setting('testLimit', input.testLimit, POSITIVE_INTEGER),
    optimizer: nameSetting('optimizer', input.optimizer, OPTIMIZER_NAMES),
    lrSchedule: nameSetting('lrSchedule', input.lrSchedule, LR_SCHEDULES),
    evalEvery: setting('evalEvery', input.evalEvery, POSITIVE_INTEGER),
    momentum,
    weightDecay: setting('weightDecay', input.weightDecay, NON_NEGATIVE),
  };
}

/** SHA-256 (hex) of the grid's canonical JSON: what a results folder is tied to. */
export function gridHash(grid: SweepGrid): string {
  return sha256Hex(canonicalJson(grid));
}

/**
 * Every cell of the grid, once. Rule 'sgd' gets one cell per setting of the
 * other members, with rho 0, instead of one per radius.
 */
export function expandGrid(grid: SweepGrid): SweepCell[] {
  const cells: SweepCell[] = [];
  // SGD has no perturbation, so of its presets only the parameterization (SP or µP) matters: run it once per
  // parameterization, under the first preset of the grid that has it.
  const sgdPreset = (preset: PresetName): PresetName =>
    grid.presets.find((other) => PRESETS[other].parameterization === PRESETS[preset].parameterization) ?? preset;
  const sgdPresets = [...new Set(grid.presets.map(sgdPreset))];
  const optional = {
    ...(grid.baseWidthMult !== null && { baseWidthMult: grid.baseWidthMult }),
    ...(grid.limit !== null && { limit: grid.limit }),
    ...(grid.testLimit !== null && { testLimit: grid.testLimit }),
    ...(grid.optimizer !== null && { optimizer: grid.optimizer }),
    ...(grid.lrSchedule !== null && { lrSchedule: grid.lrSchedule }),
    ...(grid.evalEvery !== null && { evalEvery: grid.evalEvery }),
    ...(grid.momentum !== null && { momentum: grid.momentum }),
    ...(grid.weightDecay !== null && { weightDecay: grid.weightDecay }),
  };
  for (const model of grid.models)
    for (const dataset of grid.datasets)
      for (const widthMult of grid.widths)
        for (const batch of grid.batches)
          for (const epochs of grid.epochs)
            for (const rule of grid.rules)
              for (const preset of rule === 'sgd' ? sgdPresets : grid.presets)
                for (const lr of grid.lrs)
                  for (const rho of rule === 'sgd' ? [0] : grid.rhos)
                    for (const seed of grid.seeds) {
                      const config: CellConfig = {
                        model,
                        dataset,
                        widthMult,
                        rule,
                        preset,
                        lr,
                        rho,
                        epochs,
                        batch,
                        seed,
                        ...optional,
                      };
                      cells.push({ id: cellId(config), config });
                    }
  return cells;
}
