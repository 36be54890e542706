export * from './datasets/index.js';
export { fastMatMul } from './layers/fast-matmul.js';
export { logSoftmax, softmaxCrossEntropy } from './layers/log-softmax.js';
export {
  type CreateModelOptions,
  createModel,
  MLP_REFERENCE_WIDTH,
  MODEL_NAMES,
  type ModelName,
} from './models/create-model.js';
export { createMlp, type MlpOptions } from './models/mlp.js';
export type { ZooModel } from './models/zoo-model.js';
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
export { isRuleName, RULE_NAMES, type RuleName } from './training/perturbation-rules.js';
export {
  type CheckpointOptions,
  defaultLearningRate,
  defaultOptimizerFor,
  OPTIMIZER_NAMES,
  type OptimizerName,
  type ResolvedTrainConfig,
  resolveTrainConfig,
  type TrainConfig,
} from './training/train-config.js';
export type { BatchProgress, EpochSummary, TrainHooks, TrainResult, TrainStart } from './training/train-result.js';
export { trainRun } from './training/train-run.js';
