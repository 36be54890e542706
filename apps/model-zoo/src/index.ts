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
export {
  type AttentionShape,
  type AttentionWeights,
  scaledDotProductAttention,
  selfAttention,
} from './layers/attention.js';
export { BatchNorm, type BatchNormApplyOptions, type BatchNormOptions } from './layers/batch-norm.js';
export { biasAdd } from './layers/bias-add.js';
export { columnSums } from './layers/column-sums.js';
export { type Conv2dOptions, type ConvPadding, conv2d, extractPatches } from './layers/conv2d.js';
export { fastBatchMatMul } from './layers/fast-batch-matmul.js';
export { fastMatMul } from './layers/fast-matmul.js';
export { gelu } from './layers/gelu.js';
export { LayerNorm } from './layers/layer-norm.js';
export { logSoftmax, softmaxCrossEntropy } from './layers/log-softmax.js';
export {
  type CreateModelOptions,
  createModel,
  MLP_REFERENCE_WIDTH,
  MODEL_NAMES,
  type ModelName,
  VIT_DEFAULT_BASE_WIDTH_MULT,
  VIT_HEADS,
  VIT_REFERENCE_WIDTH,
} from './models/create-model.js';
export { createMlp, type MlpOptions } from './models/mlp.js';
export { createResnet18, RESNET18_STAGE_CHANNELS, type ResnetOptions } from './models/resnet.js';
export { createVit, type VitOptions } from './models/vit.js';
export type { ZooModel } from './models/zoo-model.js';
export { findRulePackages, installedPackageDir, type RulePackageLocation } from './rules/find-rule-packages.js';
export { loadRuleModule } from './rules/rule-module.js';
export {
  isRuleManifest,
  type LoadedRule,
  loadRulePackage,
  RULE_EXPORT,
  RULE_KEYWORD,
} from './rules/rule-package.js';
export { RulePackageError } from './rules/rule-package-error.js';
export {
  type LoadRulesOptions,
  loadRules,
  NO_RULE,
  type RuleProblem,
  type RuleRegistry,
} from './rules/rule-registry.js';
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_MANIFEST,
  CHECKPOINT_VERSION,
  type CheckpointManifest,
  type LoadedCheckpoint,
  readCheckpoint,
  type StoredTensor,
} from './training/checkpoint.js';
export { CheckpointError } from './training/checkpoint-error.js';
export { countCorrect, type Evaluation, evaluateAccuracy } from './training/evaluate-accuracy.js';
export {
  type CheckpointOptions,
  defaultLearningRate,
  defaultOptimizerFor,
  LR_SCHEDULES,
  type LrSchedule,
  OPTIMIZER_NAMES,
  type OptimizerName,
  type ResolvedTrainConfig,
  resolveTrainConfig,
  type TrainConfig,
} from './training/train-config.js';
export type { BatchProgress, EpochSummary, TrainHooks, TrainResult, TrainStart } from './training/train-result.js';
export { trainRun } from './training/train-run.js';
