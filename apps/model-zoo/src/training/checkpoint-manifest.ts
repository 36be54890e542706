import type * as tf from '@tensorflow/tfjs';
import type { ZooModel } from '../models/zoo-model.js';
import { CheckpointError } from './checkpoint-error.js';
import type { ResolvedTrainConfig } from './train-config.js';
import type { EpochSummary } from './train-result.js';

/**
 * Checkpoint format, version 1. A directory holds the last two checkpoints:
 *
 * - `checkpoint.json`, the manifest of the newest: the run's config, the epochs done and
 *   their summaries, the optimizer step, the seed, and one entry per tensor
 *   `{ name, shape, dtype, offset, byteLength }` locating it in the data file;
 * - `epoch-NNNN.bin`, the data: every tensor's values one after the other,
 *   float32 or int32, little-endian, at the byte offsets of the manifest. The
 *   manifest records its size and SHA-256.
 *
 * Model tensors are every variable of the model (BatchNorm statistics too), in
 * `allVariables` order. Optimizer tensors are `optimizer.getWeights()` in order;
 * names that begin with a model variable's name have it replaced by `@<index>`
 * into the model list, because variable names carry a per-process instance
 * counter. The batch order and augmentation of epoch e are drawn from
 * (seed, e) alone, so the seed and the epoch are the whole random state.
 *
 * - `checkpoint-previous.json`, the manifest of the one before, whose data file
 *   is kept too, so that a damaged newest checkpoint leaves one to resume from.
 *
 * Each file is written to a temporary name (`<name>.tmp-<pid>`), synced, and
 * renamed into place: the data file first, then the previous manifest moves
 * aside (a copy of checkpoint.json), then the new manifest, so the directory
 * always holds matching pairs. Data files neither manifest names are then
 * removed, and so are the temporary files of writers that were killed.
 */
export const CHECKPOINT_FORMAT = 'mup2-checkpoint';
export const CHECKPOINT_VERSION = 1;
export const CHECKPOINT_MANIFEST = 'checkpoint.json';
export const PREVIOUS_CHECKPOINT_MANIFEST = 'checkpoint-previous.json';

type StoredDtype = 'float32' | 'int32';

export interface StoredTensor {
  readonly name: string;
  readonly shape: number[];
  readonly dtype: StoredDtype;
  /** Byte offset in the data file. */
  readonly offset: number;
  readonly byteLength: number;
}

export interface CheckpointManifest {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly version: typeof CHECKPOINT_VERSION;
  /** Epochs done. */
  readonly epoch: number;
  /** Optimizer steps done. */
  readonly step: number;
  /** With the epoch, what fixes the batches of every epoch to come. */
  readonly seed: number;
  readonly config: ResolvedTrainConfig;
  readonly history: EpochSummary[];
  /** The backend that computed it: a run resumed on another backend is not bit-for-bit the same as one straight run. */
  readonly backend: string;
  readonly data: { readonly file: string; readonly bytes: number; readonly sha256: string };
  readonly model: StoredTensor[];
  readonly optimizer: { readonly className: string; readonly weights: StoredTensor[] };
}

/** A checkpoint read back and checked, its tensors' values at hand. */
export interface LoadedCheckpoint {
  readonly manifest: CheckpointManifest;
  /** The manifest file it was read from: checkpoint.json, or checkpoint-previous.json when the newest was damaged. */
  readonly file: string;
  /** Why the newest checkpoint could not be used, when this is the previous one. */
  readonly newestProblem?: string;
  readonly model: Array<{ readonly entry: StoredTensor; readonly values: Float32Array | Int32Array }>;
  readonly optimizer: Array<{ readonly entry: StoredTensor; readonly values: Float32Array | Int32Array }>;
}

export interface CheckpointState {
  readonly epoch: number;
  readonly step: number;
  readonly config: ResolvedTrainConfig;
  readonly history: readonly EpochSummary[];
  readonly backend: string;
  readonly model: ZooModel;
  readonly optimizer: tf.Optimizer;
}

export const dataFileName = (epoch: number) => `epoch-${String(epoch).padStart(4, '0')}.bin`;
export const DATA_FILE_PATTERN = /^epoch-\d{4,}\.bin$/;

/** The epoch and data file of a manifest's text, if it is a manifest at all. */
export function manifestEpoch(text: string | undefined): { epoch: number; file: string } | undefined {
  try {
    const value = JSON.parse(text ?? '') as Partial<CheckpointManifest>;
    return typeof value.epoch === 'number' && typeof value.data?.file === 'string'
      ? { epoch: value.epoch, file: value.data.file }
      : undefined;
  } catch {
    return undefined;
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/** Throws unless the parsed manifest has every field of version 1 with a plausible value. */
export function checkManifest(value: unknown, file: string): CheckpointManifest {
  const fault = (what: string): never => {
    throw new CheckpointError(`checkpoint ${file} is not a valid checkpoint manifest: ${what}.`, { file });
  };
  if (!isObject(value)) return fault('expected a JSON object');
  if (value.format !== CHECKPOINT_FORMAT)
    fault(`'format' is ${JSON.stringify(value.format)}, expected '${CHECKPOINT_FORMAT}'`);
  if (value.version !== CHECKPOINT_VERSION) {
    fault(`'version' is ${JSON.stringify(value.version)}, this code reads version ${CHECKPOINT_VERSION}`);
  }
  for (const key of ['epoch', 'step', 'seed'] as const) {
    if (!isCount(value[key])) fault(`'${key}' is ${JSON.stringify(value[key])}, expected an integer >= 0`);
  }
  if (!isObject(value.config)) fault("'config' is missing");
  if (!Array.isArray(value.history)) fault("'history' is missing");
  if (typeof value.backend !== 'string') fault("'backend' is missing");
  const data = value.data;
  if (!isObject(data) || typeof data.file !== 'string' || !DATA_FILE_PATTERN.test(data.file)) {
    fault("'data.file' is missing or not an epoch-NNNN.bin name");
  }
  const { bytes, sha256 } = data as Record<string, unknown>;
  if (!isCount(bytes)) fault("'data.bytes' is not an integer >= 0");
  if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) fault("'data.sha256' is not a SHA-256 hex digest");
  const checkEntries = (entries: unknown, where: string) => {
    if (!Array.isArray(entries)) return fault(`'${where}' is not a list`);
    entries.forEach((entry: unknown, index) => {
      const at = `'${where}[${index}]'`;
      if (!isObject(entry) || typeof entry.name !== 'string') return fault(`${at} has no name`);
      if (!Array.isArray(entry.shape) || !entry.shape.every(isCount)) return fault(`${at} has no valid shape`);
      if (entry.dtype !== 'float32' && entry.dtype !== 'int32') return fault(`${at} has dtype ${String(entry.dtype)}`);
      const size = (entry.shape as number[]).reduce((product, length) => product * length, 1);
      if (!isCount(entry.offset) || entry.offset % 4 !== 0 || entry.byteLength !== size * 4) {
        return fault(`${at} has an offset or byteLength that does not fit its shape`);
      }
      if (entry.offset + size * 4 > (bytes as number)) return fault(`${at} ends past the data file's ${bytes} bytes`);
    });
  };
  checkEntries(value.model, 'model');
  const optimizer = value.optimizer;
  if (!isObject(optimizer) || typeof optimizer.className !== 'string') return fault("'optimizer.className' is missing");
  checkEntries(optimizer.weights, 'optimizer.weights');
  return value as unknown as CheckpointManifest;
}
