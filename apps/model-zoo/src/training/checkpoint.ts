import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { removeStaleTemporaryFiles, writeFileAtomically } from '../files/atomic-file.js';
import { makeDirectory } from '../files/make-directory.js';
import type { ZooModel } from '../models/zoo-model.js';
import { CheckpointError } from './checkpoint-error.js';
import {
  CHECKPOINT_FORMAT,
  CHECKPOINT_MANIFEST,
  CHECKPOINT_VERSION,
  type CheckpointManifest,
  type CheckpointState,
  checkManifest,
  DATA_FILE_PATTERN,
  dataFileName,
  type LoadedCheckpoint,
  manifestEpoch,
  PREVIOUS_CHECKPOINT_MANIFEST,
  type StoredTensor,
} from './checkpoint-manifest.js';

/** The format is described in checkpoint-manifest.ts. */
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_MANIFEST,
  CHECKPOINT_VERSION,
  type CheckpointManifest,
  type CheckpointState,
  type LoadedCheckpoint,
  PREVIOUS_CHECKPOINT_MANIFEST,
  type StoredTensor,
};

/** `@<index>/rest` for a name that begins with the name of model variable `index`; the longest such name wins. */
function portableName(name: string, variables: readonly tf.Variable[]): string {
  let best = -1;
  variables.forEach((variable, index) => {
    if (
      name.startsWith(`${variable.name}/`) &&
      (best < 0 || variable.name.length > (variables[best]?.name.length ?? 0))
    ) {
      best = index;
    }
  });
  return best < 0 ? name : `@${best}${name.slice((variables[best] as tf.Variable).name.length)}`;
}

function localName(name: string, variables: readonly tf.Variable[], file: string): string {
  const match = /^@(\d+)(\/.*)$/.exec(name);
  if (match === null) return name;
  const variable = variables[Number(match[1])];
  if (variable === undefined) {
    throw new CheckpointError(
      `checkpoint ${file}: optimizer weight '${name}' refers to model variable ${match[1]}, but the model has ${variables.length}.`,
      { file },
    );
  }
  return `${variable.name}${match[2]}`;
}

/**
 * Writes the model, optimizer state and progress of a run to `dir` (created if needed), keeping the
 * checkpoint before it as the previous one. A write that fails (a full disk) leaves no temporary
 * file and throws a FileWriteError that names the file and the checkpoint still there.
 */
export async function saveCheckpoint(dir: string, state: CheckpointState): Promise<void> {
  await makeDirectory(dir, 'no checkpoint was written');
  // Before writing: what writers killed mid-write left may be what fills the disk.
  await removeStaleTemporaryFiles(dir);
  const variables = state.model.allVariables;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const store = async (name: string, tensor: tf.Tensor): Promise<StoredTensor> => {
    if (tensor.dtype !== 'float32' && tensor.dtype !== 'int32') {
      throw new CheckpointError(`cannot save '${name}': dtype ${tensor.dtype}; expected float32 or int32.`);
    }
    const values = (await tensor.data()) as Float32Array | Int32Array;
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    chunks.push(bytes);
    const entry = { name, shape: [...tensor.shape], dtype: tensor.dtype, offset, byteLength: bytes.byteLength };
    offset += bytes.byteLength;
    return entry;
  };
  const model: StoredTensor[] = [];
  for (const variable of variables) model.push(await store(variable.name, variable));
  const weights = await state.optimizer.getWeights();
  const optimizerEntries: StoredTensor[] = [];
  try {
    for (const { name, tensor } of weights) optimizerEntries.push(await store(portableName(name, variables), tensor));
  } finally {
    // getWeights returns the optimizer's own state variables and fresh scalars (its step counts): only the latter are ours.
    for (const { tensor } of weights) if (!(tensor instanceof tf.Variable)) tensor.dispose();
  }
  const data = Buffer.concat(chunks);
  const dataFile = dataFileName(state.epoch);
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    epoch: state.epoch,
    step: state.step,
    seed: state.config.seed,
    config: state.config,
    history: [...state.history],
    backend: state.backend,
    data: { file: dataFile, bytes: data.byteLength, sha256: createHash('sha256').update(data).digest('hex') },
    model,
    optimizer: { className: state.optimizer.getClassName(), weights: optimizerEntries },
  };
  const newestFile = join(dir, CHECKPOINT_MANIFEST);
  const newestText = await readFile(newestFile, 'utf8').catch(() => undefined);
  const newest = manifestEpoch(newestText);
  const kept =
    newest !== undefined
      ? `the checkpoint of epoch ${newest.epoch} in ${dir} is kept`
      : `no checkpoint of this run is in ${dir} yet`;
  await writeFileAtomically(join(dir, dataFile), data, kept);
  // The newest becomes the previous one, unless it is this epoch's (a run resumed from the previous
  // checkpoint, past a damaged newest one: the previous stays).
  if (newest !== undefined && newest.epoch < state.epoch) {
    await writeFileAtomically(join(dir, PREVIOUS_CHECKPOINT_MANIFEST), newestText as string, kept);
  }
  await writeFileAtomically(newestFile, `${JSON.stringify(manifest, null, 2)}\n`, kept);
  const previous = manifestEpoch(
    await readFile(join(dir, PREVIOUS_CHECKPOINT_MANIFEST), 'utf8').catch(() => undefined),
  );
  for (const name of await readdir(dir)) {
    if (name !== dataFile && name !== previous?.file && DATA_FILE_PATTERN.test(name)) {
      await rm(join(dir, name), { force: true });
    }
  }
}

/**
 * Reads the newest checkpoint in `dir`, checking the manifest, the data file's size and checksum;
 * if it is damaged (unreadable, truncated, corrupt), the previous checkpoint, with `newestProblem`
 * saying why. Undefined when `dir` holds no checkpoint; a CheckpointError naming the newest's file
 * and fault when neither can be used.
 */
export async function readCheckpoint(dir: string): Promise<LoadedCheckpoint | undefined> {
  let newestError: unknown;
  try {
    const newest = await readManifestAndData(dir, CHECKPOINT_MANIFEST);
    if (newest !== undefined) return newest;
  } catch (error) {
    if (!CheckpointError.isInstance(error)) throw error;
    newestError = error;
  }
  let previous: LoadedCheckpoint | undefined;
  try {
    previous = await readManifestAndData(dir, PREVIOUS_CHECKPOINT_MANIFEST);
  } catch (error) {
    if (newestError === undefined) throw error;
  }
  if (previous === undefined) {
    if (newestError !== undefined) throw newestError;
    return undefined;
  }
  if (newestError === undefined) return { ...previous, newestProblem: `${join(dir, CHECKPOINT_MANIFEST)} is missing` };
  return { ...previous, newestProblem: (newestError as Error).message };
}

async function readManifestAndData(dir: string, name: string): Promise<LoadedCheckpoint | undefined> {
  const manifestFile = join(dir, name);
  let text: string;
  try {
    text = await readFile(manifestFile, 'utf8');
  } catch (error) {
    // No such file, or no such folder (a file in the way, which writing the checkpoint then names).
    const { code } = error as NodeJS.ErrnoException;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new CheckpointError(`checkpoint ${manifestFile} cannot be read: ${(error as Error).message}`, {
      file: manifestFile,
      cause: error,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(
      `checkpoint ${manifestFile} is corrupt or truncated: not valid JSON (${(error as Error).message}).`,
      { file: manifestFile, cause: error },
    );
  }
  const manifest = checkManifest(parsed, manifestFile);
  const dataFile = join(dir, manifest.data.file);
  let data: Buffer;
  try {
    data = await readFile(dataFile);
  } catch (error) {
    throw new CheckpointError(
      `checkpoint ${dataFile} cannot be read (${(error as Error).message}); ${manifestFile} refers to it.`,
      { file: dataFile, cause: error },
    );
  }
  if (data.byteLength !== manifest.data.bytes) {
    throw new CheckpointError(
      `checkpoint ${dataFile} is ${data.byteLength < manifest.data.bytes ? 'truncated' : 'too long'}: ` +
        `${data.byteLength} bytes, expected ${manifest.data.bytes}.`,
      { file: dataFile },
    );
  }
  if (createHash('sha256').update(data).digest('hex') !== manifest.data.sha256) {
    throw new CheckpointError(
      `checkpoint ${dataFile} is corrupt: its SHA-256 does not match the one recorded in ${manifestFile}.`,
      { file: dataFile },
    );
  }
  // A copy into a fresh buffer: Buffer's pool offsets need not be 4-byte aligned.
  const values = (entry: StoredTensor) => {
    const bytes = data.buffer.slice(data.byteOffset + entry.offset, data.byteOffset + entry.offset + entry.byteLength);
    return entry.dtype === 'int32' ? new Int32Array(bytes) : new Float32Array(bytes);
  };
  return {
    manifest,
    file: manifestFile,
    model: manifest.model.map((entry) => ({ entry, values: values(entry) })),
    optimizer: manifest.optimizer.weights.map((entry) => ({ entry, values: values(entry) })),
  };
}

/** Puts a loaded checkpoint's values into the model's variables and the optimizer's state. */
export async function restoreCheckpoint(
  checkpoint: LoadedCheckpoint,
  model: ZooModel,
  optimizer: tf.Optimizer,
): Promise<void> {
  const file = checkpoint.file;
  const variables = model.allVariables;
  const mismatch = (what: string): never => {
    throw new CheckpointError(`checkpoint ${file} does not fit the model: ${what}.`, { file });
  };
  if (checkpoint.model.length !== variables.length) {
    mismatch(`it holds ${checkpoint.model.length} model variables, the model has ${variables.length}`);
  }
  checkpoint.model.forEach(({ entry }, index) => {
    const variable = variables[index] as tf.Variable;
    if (entry.shape.join(',') !== variable.shape.join(',') || entry.dtype !== variable.dtype) {
      mismatch(
        `variable ${index} is '${entry.name}' ${entry.dtype} [${entry.shape.join(', ')}] there, ` +
          `'${variable.name}' ${variable.dtype} [${variable.shape.join(', ')}] here`,
      );
    }
  });
  if (checkpoint.manifest.optimizer.className !== optimizer.getClassName()) {
    throw new CheckpointError(
      `checkpoint ${file} holds the state of a ${checkpoint.manifest.optimizer.className}, ` +
        `but this run's optimizer is a ${optimizer.getClassName()}.`,
      { file },
    );
  }
  const state = checkpoint.optimizer.map(({ entry, values }) => ({
    name: localName(entry.name, variables, file),
    tensor: tf.tensor(values, entry.shape, entry.dtype),
  }));
  try {
    checkpoint.model.forEach(({ entry, values }, index) => {
      tf.tidy(() => (variables[index] as tf.Variable).assign(tf.tensor(values, entry.shape, entry.dtype)));
    });
    await optimizer.setWeights(state);
  } catch (error) {
    if (CheckpointError.isInstance(error)) throw error;
    throw new CheckpointError(
      `checkpoint ${file}: the optimizer state cannot be restored: ${(error as Error).message}`,
      { file, cause: error },
    );
  } finally {
    // setWeights copies what it keeps into variables of its own (sharing the data, counted by reference).
    for (const { tensor } of state) tensor.dispose();
  }
}
