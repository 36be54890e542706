export { type InitBackendOptions, initBackend } from './backend.js';
export {
  attachBaseShapes,
  BASE_SHAPES_METADATA_KEY,
  type BaseShapes,
  baseShapes,
  type ModelWithMetadata,
  paramsFromBaseShapes,
  type SavedBaseShape,
} from './base-shapes.js';
export {
  type ConvGeometry,
  effectivePerturbations,
  type LayerKind,
  logLogSlope,
  type MeasuredLayer,
} from './coord-check.js';
export { describeParams, type LayerLike, type LayerWeightLike } from './describe-params.js';
export {
  BackendError,
  DisposedVariableError,
  DuplicateTfjsError,
  InvalidOptionError,
  InvalidRhoError,
  MissingKernelError,
  MissingParamSpecError,
  Mup2Error,
  NonFiniteGradientError,
  RuleSpecificationError,
  ShapeMismatchError,
} from './errors.js';
export { addScaled, FUSED_KERNELS, hasFusedKernel, type MoveTerms, movedWeights } from './fused-kernels.js';
export { enableMSharpness } from './m-sharpness-fit.js';
export { MuAdamOptimizer, type MuAdamOptions, muAdam } from './mu-adam.js';
export { type MuInitOptions, muInit } from './mu-init.js';
export { MuSgdOptimizer, type MuSgdOptions, muSgd } from './mu-sgd.js';
export {
  adamMultiplier,
  fans,
  modelWidthMultiplier,
  PARAM_ROLES,
  type ParamRole,
  type ParamSpec,
  type ParamSpecExplicit,
  type ParamSpecFromBaseShape,
  type ParamSpecInput,
  paramSpecs,
  roleFromShapes,
  sgdMultiplier,
} from './param-spec.js';
export type { LearningRateParameterization } from './per-variable-rates.js';
export { computePerturbation, NORM_EPSILON, type Perturbation, type PlannedParameter } from './perturbation.js';
export {
  assertPerturbationRule,
  assertRadius,
  assertScaling,
  type LayerScale,
  PERTURBATION_SCALINGS,
  type PerturbationDirection,
  type PerturbationInput,
  type PerturbationRule,
  type PerturbationRuleV1,
  type PerturbationScaling,
  RULE_VERSIONS,
} from './perturbation-rule.js';
export type {
  AscentQuery,
  DescentInput,
  DescentOutput,
  DescentParameter,
  ParameterState,
  PerturbationDirectionV2,
  PerturbationInputV2,
  PerturbationRuleV2,
} from './perturbation-rule-v2.js';
export { type Parameterization, PRESET_NAMES, PRESETS, type Preset, type PresetName, parsePreset } from './presets.js';
export {
  assertRuleDescriptor,
  defineRule,
  RULE_DESCRIPTOR_VERSION,
  type RuleCreateOptions,
  type RuleDescriptor,
  type RuleOptionDescriptor,
} from './rule-descriptor.js';
export { samLayerScale } from './sam-layer-scale.js';
export { type BatchLoss, type BatchPass, SamOptimizer, type SamOptimizerOptions } from './sam-optimizer.js';
export type { AscentContext, AscentOptimizerFactory } from './step-context.js';
export { registerWasmGradientKernels, WASM_GRADIENT_KERNELS } from './wasm-gradient-kernels.js';
export { type WeightedPair, weightedInnerProduct } from './weighted-inner-product.js';
