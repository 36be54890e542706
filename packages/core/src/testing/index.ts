export { checkPerturbationRule } from './check-rule.js';
export {
  type RuleConformanceOptions,
  type RuleFactory,
  type RuleFactoryOptions,
  runRuleConformance,
} from './conformance.js';
export {
  FLOAT64_MLP_NAMES,
  type Float64Forward,
  type Float64MlpName,
  type Float64MlpParams,
  type Float64MlpShape,
  float64Init,
  float64LossAndGradients,
  float64Shapes,
  seededNormal,
  seededRandom,
} from './float64-mlp.js';
export {
  type Float64RuleStepOptions,
  type Float64StepData,
  float64AsamStep,
  float64SamOnStep,
  float64SamStep,
} from './float64-rule-steps.js';
export { float64Batch, type UpdateError, updateErrors } from './float64-step-check.js';
export { createTinyMlp, type TinyMlp } from './tiny-mlp.js';
export { type TinyMlpCoordCheck, type TinyMlpCoordCheckOptions, tinyMlpCoordCheck } from './tiny-mlp-coord-check.js';
export {
  runTinyMlpStep,
  runTinyMlpSteps,
  type TinyMlpStep,
  type TinyMlpStepOptions,
  type TinyMlpSteps,
  type TinyMlpStepsOptions,
} from './tiny-mlp-step.js';
