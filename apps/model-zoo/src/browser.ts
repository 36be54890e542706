// What runs anywhere TF.js runs, browsers included: no file system, no Node modules. A browser
// bundler resolves the package here (its `browser` export condition); Node gets index.ts, which
// adds the loaders that read data sets and checkpoints from disk, and trainRun.
export * from './datasets/browser.js';
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
export {
  LAYER_FORM_CANDIDATES,
  type LayerForms,
  layerFormRuns,
  layerForms,
  withLayerForms,
} from './layers/layer-forms.js';
export { LayerNorm } from './layers/layer-norm.js';
export { logSoftmax, softmaxCrossEntropy } from './layers/log-softmax.js';
export { relu } from './layers/relu.js';
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
export {
  createResnet18,
  RESNET18_BASE_WIDTH_MULT,
  RESNET18_STAGE_CHANNELS,
  type ResnetOptions,
} from './models/resnet.js';
export { createVit, type VitOptions } from './models/vit.js';
export type { ZooModel } from './models/zoo-model.js';
export {
  createRuleRegistry,
  type LoadedRule,
  NO_RULE,
  type RuleProblem,
  type RuleRegistry,
} from './rules/rule-registry.js';
export { CheckpointError } from './training/checkpoint-error.js';
export { createOptimizer } from './training/create-optimizer.js';
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
export type {
  BatchProgress,
  EpochSummary,
  TrainHooks,
  TrainResult,
  TrainRunOptions,
  TrainStart,
} from './training/train-result.js';
export { type StepOutcome, trainStep } from './training/train-step.js';
