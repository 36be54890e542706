import { PRESET_NAMES, PRESETS, type PresetName } from '@mup2/core';
import {
  DATASET_NAMES,
  type DatasetName,
  LR_SCHEDULES,
  type LrSchedule,
  MODEL_NAMES,
  type ModelName,
  NO_RULE,
  OPTIMIZER_NAMES,
  type OptimizerName,
  type RuleRegistry,
} from '@mup2/model-zoo';
import { canonicalJson, sha256Hex } from './canonical-json.js';
import type { CellConfig } from './cell-config.js';
import { cellId } from './cell-id.js';
import { SweepError } from './sweep-error.js';

/**
 * A sweep grid in canonical form: every list deduplicated and sorted (names in
 * the order of their registry; rules 'sgd' first, then by name), every setting
 * filled in (null: the trainer's default). Two grids that run the same cells have
 * the same canonical form and so the same hash. Where the data lives (dataDir)
 * and where rules are loaded from are not part of it. The settings added later
 * (mSharpness, perturbationInterval, ruleOptions, labelNoise) are left out when unset, so a
 * grid without them keeps the hash it had before they existed.
 */
export interface SweepGrid {
  readonly models: readonly ModelName[];
  readonly datasets: readonly DatasetName[];
  /** 'sgd' and names of installed (or --rule-module) rule packages. */
  readonly rules: readonly string[];
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
  /** Fraction of training labels replaced by another class, seeded by each cell's seed (unset: none). */
  readonly labelNoise?: number;
  readonly optimizer: OptimizerName | null;
  readonly lrSchedule: LrSchedule | null;
  /** Evaluate the test split every k epochs and after the last (null: every epoch). */
  readonly evalEvery: number | null;
  readonly momentum: number | null;
  readonly weightDecay: number | null;
  /** m-sharpness of every perturbing cell (unset: the whole batch). */
  readonly mSharpness?: number;
  /** ε recomputed every this many steps in every perturbing cell (unset: 1). */
  readonly perturbationInterval?: number;
  /** Options of a rule's own, by rule: { asam: { eta: 0.02 } } (unset: the rules' defaults). */
  readonly ruleOptions?: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

export type { CellConfig } from './cell-config.js';

export interface SweepCell {
  /** cellId(config). */
  readonly id: string;
  readonly config: CellConfig;
}

/** A grid as written by a user (flags or a grid file): any member may be missing, a list may be one value or a comma list. */
export type SweepGridInput = { readonly [K in keyof SweepGrid]?: unknown };

type ListKey = 'models' | 'datasets' | 'rules' | 'presets' | 'widths' | 'lrs' | 'rhos' | 'seeds' | 'epochs' | 'batches';
type SettingKey = Exclude<keyof SweepGrid, ListKey | 'ruleOptions'>;

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
  'mSharpness',
  'perturbationInterval',
  'labelNoise',
] as const satisfies readonly SettingKey[];
export const GRID_KEYS: readonly (keyof SweepGrid)[] = [...GRID_LIST_KEYS, ...GRID_SETTING_KEYS, 'ruleOptions'];

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
const FRACTION: NumberRule = { test: (value) => value >= 0 && value < 1, expected: 'fractions in [0, 1)' };
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

/** Rule names as given: 'sgd' first, then the rules by name; with a registry, every one must be known to it. */
function ruleList(value: unknown, rules: RuleRegistry | undefined): string[] {
  const names = listItems('rules', value).map((item) => {
    if (typeof item !== 'string' || !/^[a-z][a-z0-9-]*$/.test(item)) {
      throw new SweepError(`grid: rules must hold rule names, got ${show(item)}.`);
    }
    if (rules !== undefined && item !== NO_RULE && !rules.names.includes(item)) {
      throw new SweepError(
        `grid: unknown rules name ${show(item)}; expected some of ${[NO_RULE, ...rules.names].join(', ')} ` +
          '(the installed rule packages; load another with --rule-module).',
      );
    }
    return item;
  });
  return [...new Set(names)].sort((a, b) => (a === NO_RULE ? -1 : b === NO_RULE ? 1 : a < b ? -1 : a > b ? 1 : 0));
}

/** { rule: { option: number } }, each rule one of the grid's, each option one it declares (with a registry). */
function ruleOptionsSetting(
  value: unknown,
  ruleNames: readonly string[],
  rules: RuleRegistry | undefined,
): SweepGrid['ruleOptions'] {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new SweepError(
      `grid: ruleOptions must map rule names to options, e.g. { asam: { eta: 0.02 } }, got ${show(value)}.`,
    );
  }
  const entries = Object.entries(value as Record<string, unknown>).map(([rule, options]) => {
    if (!ruleNames.includes(rule) || rule === NO_RULE) {
      throw new SweepError(
        `grid: ruleOptions names rule ${show(rule)}, which is not a perturbing rule of the grid (${ruleNames.join(', ')}).`,
      );
    }
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new SweepError(`grid: ruleOptions.${rule} must be an object of numbers, got ${show(options)}.`);
    }
    const numbers = Object.entries(options as Record<string, unknown>).map(
      ([option, item]) => [option, toNumber(`ruleOptions.${rule}.${option}`, item)] as const,
    );
    const checked = Object.fromEntries(numbers.sort(([a], [b]) => (a < b ? -1 : 1)));
    try {
      rules?.checkOptions(rule, checked);
    } catch (error) {
      throw new SweepError(`grid: ${(error as Error).message}`);
    }
    return [rule, checked] as const;
  });
  return entries.length === 0 ? undefined : Object.fromEntries(entries);
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
 * values that are not numbers and unknown names. With `rules`, every rule (and
 * rule option) must be one of them.
 */
export function parseGrid(input: SweepGridInput, rules?: RuleRegistry): SweepGrid {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new SweepError(`grid: expected an object of lists, got ${show(input)}.`);
  }
  for (const key of Object.keys(input)) {
    if (!(GRID_KEYS as readonly string[]).includes(key)) {
      throw new SweepError(`grid: unknown member '${key}'; expected some of ${GRID_KEYS.join(', ')}.`);
    }
  }
  const given = <K extends ListKey>(key: K): unknown => input[key] ?? DEFAULT_GRID_LISTS[key];
  const ruleNames = ruleList(given('rules'), rules);
  const rhos = numberList('rhos', given('rhos'));
  const momentum = setting('momentum', input.momentum, NON_NEGATIVE);
  if (momentum !== null && momentum >= 1) throw new SweepError(`grid: momentum must be in [0, 1), got ${momentum}.`);
  const mSharpness = setting('mSharpness', input.mSharpness, POSITIVE_INTEGER);
  const perturbationInterval = setting('perturbationInterval', input.perturbationInterval, POSITIVE_INTEGER);
  const ruleOptions = ruleOptionsSetting(input.ruleOptions, ruleNames, rules);
  const labelNoise = setting('labelNoise', input.labelNoise, FRACTION);
  return {
    models: nameList('models', given('models'), MODEL_NAMES),
    datasets: nameList('datasets', given('datasets'), DATASET_NAMES),
    rules: ruleNames,
    presets: nameList('presets', given('presets'), PRESET_NAMES),
    widths: numberList('widths', given('widths')),
    lrs: numberList('lrs', given('lrs')),
    // SGD has no radius: a grid of SGD runs alone is the same grid whatever radii it names.
    rhos: ruleNames.some((rule) => rule !== NO_RULE) ? rhos : [],
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
    ...(mSharpness !== null && { mSharpness }),
    ...(perturbationInterval !== null && perturbationInterval !== 1 && { perturbationInterval }),
    ...(ruleOptions !== undefined && { ruleOptions }),
    ...(labelNoise !== null && labelNoise > 0 && { labelNoise }),
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
  // What only a perturbing cell has: m-sharpness, the ε interval, the rule's own options.
  const perturbing = (rule: string) => ({
    ...(grid.mSharpness !== undefined && { mSharpness: grid.mSharpness }),
    ...(grid.perturbationInterval !== undefined && { perturbationInterval: grid.perturbationInterval }),
    ...(grid.ruleOptions?.[rule] !== undefined && { ruleOptions: grid.ruleOptions[rule] }),
  });
  const optional = {
    ...(grid.baseWidthMult !== null && { baseWidthMult: grid.baseWidthMult }),
    ...(grid.limit !== null && { limit: grid.limit }),
    ...(grid.testLimit !== null && { testLimit: grid.testLimit }),
    ...(grid.labelNoise !== undefined && { labelNoise: grid.labelNoise }),
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
              for (const preset of rule === NO_RULE ? sgdPresets : grid.presets)
                for (const lr of grid.lrs)
                  for (const rho of rule === NO_RULE ? [0] : grid.rhos)
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
                        ...(rule !== NO_RULE && perturbing(rule)),
                      };
                      cells.push({ id: cellId(config), config });
                    }
  return cells;
}
