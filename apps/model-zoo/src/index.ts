// Node's entry: everything of browser.ts, and what reads files (data sets, checkpoints) or runs whole trainings.
export * from './browser.js';
export {
  PLAIN_PROGRESS_INTERVAL_MS,
  type ProgressBar,
  type ProgressBarOptions,
  progressBar,
  progressStream,
} from './commands/progress-bar.js';
export * from './datasets/index.js';
export { configureNativeThreads, type NativeThreads } from './native-threads.js';
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_MANIFEST,
  CHECKPOINT_VERSION,
  type CheckpointManifest,
  type LoadedCheckpoint,
  readCheckpoint,
  type StoredTensor,
} from './training/checkpoint.js';
export { trainRun } from './training/train-run.js';
