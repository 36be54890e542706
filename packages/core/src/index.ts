export { initBackend, type InitBackendOptions } from './backend.js';
export { describeParams, type LayerLike, type LayerWeightLike } from './describe-params.js';
export {
  BackendError,
  DisposedVariableError,
  DuplicateTfjsError,
  InvalidOptionError,
  InvalidRhoError,
  MissingParamSpecError,
  Mup2Error,
  NonFiniteGradientError,
  RuleSpecificationError,
  ShapeMismatchError,
} from './errors.js';
export { muAdam, MuAdamOptimizer, type MuAdamOptions } from './mu-adam.js';
export { muInit, type MuInitOptions } from './mu-init.js';
export { muSgd, MuSgdOptimizer, type MuSgdOptions } from './mu-sgd.js';
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
  type PerturbationScaling,
} from './perturbation-rule.js';
export { type Parameterization, parsePreset, type Preset, type PresetName, PRESET_NAMES, PRESETS } from './presets.js';
export { SamOptimizer, type SamOptimizerOptions } from './sam-optimizer.js';
export { effectivePerturbations, type LayerKind, logLogSlope, type MeasuredLayer } from './coord-check.js';
