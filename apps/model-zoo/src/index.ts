// Node's entry: everything of browser.ts, and what reads files (data sets, checkpoints) or runs whole trainings.
export * from './browser.js';
export {
  handleInterrupts,
  type InterruptOptions,
  type Interrupts,
  REPEATED_SIGNAL_WINDOW_MS,
  runInterruptibly,
  type StopSignal,
  stopAtOnceOnInterrupt,
} from './commands/interrupts.js';
export { memoryLimitOption } from './commands/option-parsers.js';
export {
  PLAIN_PROGRESS_INTERVAL_MS,
  type ProgressBar,
  type ProgressBarOptions,
  progressBar,
  progressStream,
} from './commands/progress-bar.js';
export {
  absoluteRuleModules,
  addRuleModuleOption,
  addRulesHelp,
  collect,
  ruleOption,
} from './commands/rule-cli.js';
export * from './datasets/index.js';
export { removeStaleTemporaryFiles, temporaryPathOf, writeFileAtomically } from './files/atomic-file.js';
export { onProcessExit } from './files/exit-cleanup.js';
export { FileWriteError } from './files/file-write-error.js';
export { makeDirectory } from './files/make-directory.js';
export {
  currentProcess,
  type ProcessIdentity,
  processExists,
  processStartTime,
  processStatus,
} from './files/process-identity.js';
export { configureNativeThreads, type NativeThreads } from './native-threads.js';
export { findRulePackages, installedPackageDir, type RulePackageLocation } from './rules/find-rule-packages.js';
export { type LoadRulesOptions, loadRules } from './rules/load-rules.js';
export { loadRuleModule } from './rules/rule-module.js';
export { isRuleManifest, loadRulePackage, packageEntry, RULE_EXPORT, RULE_KEYWORD } from './rules/rule-package.js';
export { RulePackageError } from './rules/rule-package-error.js';
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_MANIFEST,
  CHECKPOINT_VERSION,
  type CheckpointManifest,
  type LoadedCheckpoint,
  PREVIOUS_CHECKPOINT_MANIFEST,
  readCheckpoint,
  type StoredTensor,
} from './training/checkpoint.js';
export {
  DATASET_GEOMETRY,
  estimateTrainingMemory,
  type MemoryEstimate,
  type MemoryEstimateInput,
} from './training/memory-estimate.js';
export {
  availableMemory,
  checkTrainingMemory,
  DEFAULT_MEMORY_FRACTION,
  formatBytes,
  type MemoryLimit,
  ModelTooLargeError,
  parseMemoryLimit,
} from './training/memory-limit.js';
export { trainRun } from './training/train-run.js';
