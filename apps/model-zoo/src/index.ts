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
