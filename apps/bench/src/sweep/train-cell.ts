// The one place the sweep touches the zoo's trainer: a cell's config in, a
// row's numbers out. A distributed runner calls the same function.
import { Mup2Error } from '@mup2/core';
import {
  checkTrainingMemory,
  type DatasetLoader,
  type DatasetName,
  loadDataset,
  type MemoryLimit,
  ModelTooLargeError,
  type RuleRegistry,
  resolveTrainConfig,
  trainRun,
} from '@mup2/model-zoo';
import type { CellConfig } from './cell-config.js';
import type { SweepCell } from './grid.js';
import type { CellStatus, SweepRow } from './results-log.js';
import { SweepError } from './sweep-error.js';

/** What a cell's run produced; null where it produced nothing (a failure, a NaN loss). */
export interface CellOutcome {
  readonly status: CellStatus;
  readonly finalTestAccuracy: number | null;
  readonly bestTestAccuracy: number | null;
  readonly finalTrainAccuracy: number | null;
  readonly trainLoss: number | null;
  readonly seconds: number;
  readonly backend: string | null;
  readonly error?: string;
}

const finiteOrNull = (value: number) => (Number.isFinite(value) ? value : null);

/** "Name: message" of anything thrown. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** The outcome of a cell that threw (in the trainer, or a worker that died under it). */
export function failedOutcome(error: unknown, seconds = 0): CellOutcome {
  return {
    status: 'failed',
    finalTestAccuracy: null,
    bestTestAccuracy: null,
    finalTrainAccuracy: null,
    trainLoss: null,
    seconds,
    backend: null,
    error: describeError(error),
  };
}

/**
 * Trains one cell on the current TF.js backend (the caller initialised it), its
 * rule found among the installed ones or those of `ruleModules`.
 * Never throws: a run that throws is a 'failed' outcome with the error, a run
 * whose loss turned NaN a 'diverged' one.
 */
export async function trainCell(
  config: CellConfig,
  dataDir?: string,
  ruleModules?: readonly string[],
  memoryLimit?: MemoryLimit,
  datasetLoader?: DatasetLoader,
): Promise<CellOutcome> {
  const started = performance.now();
  try {
    const result = await trainRun(
      {
        ...config,
        ...(dataDir !== undefined && { dataDir }),
        ...(ruleModules !== undefined && ruleModules.length > 0 && { ruleModules }),
      },
      {
        ...(memoryLimit !== undefined && { memoryLimit }),
        ...(datasetLoader !== undefined && { loadDataset: datasetLoader }),
      },
    );
    return {
      status: result.diverged ? 'diverged' : 'ok',
      finalTestAccuracy: finiteOrNull(result.finalTestAccuracy),
      bestTestAccuracy: finiteOrNull(result.bestTestAccuracy),
      finalTrainAccuracy: finiteOrNull(result.finalTrainAccuracy),
      trainLoss: finiteOrNull(result.trainLoss),
      seconds: result.seconds,
      backend: result.backend,
    };
  } catch (error) {
    return failedOutcome(error, (performance.now() - started) / 1000);
  }
}

/** Throws a SweepError if the trainer would reject the config before training (checked up front, before anything is written). */
export function checkCellConfig(config: CellConfig, rules?: RuleRegistry): void {
  try {
    resolveTrainConfig(config, rules);
  } catch (error) {
    if (!Mup2Error.isInstance(error)) throw error;
    throw new SweepError(`grid: the trainer rejects cell ${JSON.stringify(config)}: ${error.message}`);
  }
}

/**
 * Throws a SweepError naming the cell if its estimated memory is beyond its `share` of `limit`
 * (cells that run at once share it), before anything is written or allocated.
 */
export function checkCellMemory(config: CellConfig, limit: MemoryLimit | undefined, share: number): void {
  try {
    checkTrainingMemory(resolveTrainConfig(config), limit, share);
  } catch (error) {
    if (!ModelTooLargeError.isInstance(error)) throw error;
    throw new SweepError(`grid: cell ${JSON.stringify(config)} is too large: ${error.message}`);
  }
}

/** Loads a data set once, so that a missing or damaged one stops the sweep before it starts. */
export async function checkDataset(name: DatasetName, options: { dataDir?: string; limit?: number }): Promise<void> {
  try {
    await loadDataset({ name, ...options });
  } catch (error) {
    if (!Mup2Error.isInstance(error)) throw error;
    throw new SweepError(
      `data set '${name}' cannot be loaded${options.dataDir !== undefined ? ` from ${options.dataDir}` : ''}: ${error.message}`,
    );
  }
}

/** The results.jsonl row of a cell and what its run produced: the same row a local sweep writes. */
export function rowOfOutcome(cell: SweepCell, outcome: CellOutcome): SweepRow {
  return {
    cellId: cell.id,
    config: cell.config,
    seed: cell.config.seed,
    finalTestAccuracy: outcome.finalTestAccuracy,
    bestTestAccuracy: outcome.bestTestAccuracy,
    finalTrainAccuracy: outcome.finalTrainAccuracy,
    trainLoss: outcome.trainLoss,
    seconds: outcome.seconds,
    backend: outcome.backend,
    status: outcome.status,
    ...(outcome.error !== undefined && { error: outcome.error }),
  };
}
