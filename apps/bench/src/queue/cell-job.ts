// What travels through the queue: a cell's config out, its outcome back.
import { resolveTrainConfig } from '@mup2/model-zoo';
import { cellId } from '../sweep/cell-id.js';
import type { CellConfig } from '../sweep/grid.js';
import type { CellStatus } from '../sweep/results-log.js';
import { type CellOutcome, describeError } from '../sweep/train-cell.js';

import { QueueError } from './queue-error.js';

export const CELL_JOB_NAME = 'cell';
/** Bumped when the payload changes shape; a worker refuses versions it does not know. */
export const CELL_PAYLOAD_VERSION = 1;

/** A job's data. Where the data sets are is the worker's business (its --data-dir), not the job's. */
export interface CellJobData {
  readonly payloadVersion: typeof CELL_PAYLOAD_VERSION;
  readonly config: CellConfig;
}

/**
 * The job id of a cell: its cellId behind 'cell-'. BullMQ refuses ids that
 * read as integers, and one cellId in about 1,900 is all decimal digits.
 */
export function cellJobId(id: string): string {
  return `cell-${id}`;
}

export function cellJobData(config: CellConfig): CellJobData {
  return { payloadVersion: CELL_PAYLOAD_VERSION, config };
}

/**
 * Members a cell config may have: a TrainConfig without dataDir, ruleModules, augment or checkpoint
 * (nothing a job may point at the worker's disk with).
 */
const CELL_CONFIG_KEYS: readonly (keyof CellConfig)[] = [
  'model',
  'dataset',
  'widthMult',
  'baseWidthMult',
  'rule',
  'ruleOptions',
  'preset',
  'lr',
  'rho',
  'mSharpness',
  'perturbationInterval',
  'epochs',
  'batch',
  'seed',
  'limit',
  'optimizer',
  'momentum',
  'weightDecay',
];

const show = (value: unknown) => {
  const text = typeof value === 'string' ? `'${value}'` : (JSON.stringify(value) ?? String(value));
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
};
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The cell config of a job, checked as the trainer checks it, and against the
 * job's id (the hash of the config, so that the result is filed under the
 * right cell). Throws a QueueError naming what is wrong.
 */
export function parseCellJob(jobId: string | undefined, data: unknown): CellConfig {
  const job = `job ${jobId ?? '(no id)'}`;
  if (!isObject(data)) throw new QueueError(`${job}: the payload is not an object: ${show(data)}.`);
  if (data.payloadVersion !== CELL_PAYLOAD_VERSION) {
    throw new QueueError(
      `${job}: payload version ${show(data.payloadVersion)} is not known to this worker (it reads ${CELL_PAYLOAD_VERSION}); ` +
        'update the worker, or resubmit with this version of bench sweep --queue.',
    );
  }
  const extra = Object.keys(data).filter((key) => key !== 'payloadVersion' && key !== 'config');
  if (extra.length > 0) throw new QueueError(`${job}: unknown payload member '${extra[0]}'.`);
  const config = data.config;
  if (!isObject(config)) throw new QueueError(`${job}: config is not an object: ${show(config)}.`);
  for (const key of Object.keys(config)) {
    if (!(CELL_CONFIG_KEYS as readonly string[]).includes(key)) {
      throw new QueueError(`${job}: unknown config member '${key}'; expected some of ${CELL_CONFIG_KEYS.join(', ')}.`);
    }
  }
  try {
    resolveTrainConfig(config as unknown as CellConfig);
  } catch (error) {
    throw new QueueError(`${job}: the trainer rejects its config: ${describeError(error)}`);
  }
  const expected = cellJobId(cellId(config as unknown as CellConfig));
  if (jobId !== expected) {
    throw new QueueError(
      `${job}: the id is not that of its config (${expected}); cells are enqueued by bench sweep --queue, under the hash of their config.`,
    );
  }
  return config as unknown as CellConfig;
}

const STATUSES: readonly string[] = ['ok', 'failed', 'diverged'] satisfies CellStatus[];
const numberOrNull = (value: unknown) => value === null || typeof value === 'number';

/** A job's return value as a worker of this version writes it. */
export function isCellOutcome(value: unknown): value is CellOutcome {
  return (
    isObject(value) &&
    typeof value.status === 'string' &&
    STATUSES.includes(value.status) &&
    numberOrNull(value.finalTestAccuracy) &&
    numberOrNull(value.bestTestAccuracy) &&
    numberOrNull(value.finalTrainAccuracy) &&
    numberOrNull(value.trainLoss) &&
    typeof value.seconds === 'number' &&
    (value.backend === null || typeof value.backend === 'string') &&
    (value.error === undefined || typeof value.error === 'string')
  );
}
