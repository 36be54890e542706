import type { PerturbationScaling } from '../perturbation-rule.js';
import {
  FLOAT64_MLP_NAMES,
  type Float64MlpName,
  type Float64MlpParams,
  type Float64MlpShape,
  float64LossAndGradients,
} from './float64-mlp.js';

// One step of SAM, ASAM and SAM-ON with a µP-SGD descent on the float64 MLP, written from
// docs/mup2-explained.md (µP, the rules' scalings, one SamOptimizer step) with every multiplier spelled out by hand for this MLP, independently of
// the package code (param-spec.ts, the rules) that a float32 step under test runs.

/** What a float64 rule step needs besides the weights and the batch. */
export interface Float64RuleStepOptions {
  readonly shape: Float64MlpShape;
  /** The width at which µP equals SP: the width multiplier is r = shape.width / baseWidth. */
  readonly baseWidth: number;
  readonly rho: number;
  readonly scaling: PerturbationScaling;
  /** η of the µP-SGD descent. */
  readonly learningRate: number;
}

/** The batch of a float64 step: inputs row by row, and labels. */
export interface Float64StepData {
  readonly x: Float64Array;
  readonly labels: readonly number[];
}

/** m_p = fanOutMult / fanInMult at width multiplier r: W1 input r, γ and b2 vectors r, W2 hidden 1, W3 output 1/r. */
function sgdMultipliers(r: number): Record<Float64MlpName, number> {
  return { W1: r, gamma: r, W2: 1, b2: r, W3: 1 / r };
}

/** s_p, the µP init std relative to base: W1 and the vectors 1, W2 hidden r^-1/2, W3 readout 1/r. */
function initStdScales(r: number): Record<Float64MlpName, number> {
  return { W1: 1, gamma: 1, W2: 1 / Math.sqrt(r), b2: 1, W3: 1 / r };
}

const widthMultiplier = (options: Float64RuleStepOptions) => options.shape.width / options.baseWidth;

const gradientsAt = (params: Float64MlpParams, data: Float64StepData, shape: Float64MlpShape) =>
  float64LossAndGradients(params, data.x, data.labels, shape).gradients;

/** w − η·m_p·g', with g' the gradient at the perturbed weights (docs/mup2-explained.md, "One SamOptimizer step", steps 3–4). */
function descend(
  params: Float64MlpParams,
  perturbed: Float64MlpParams,
  data: Float64StepData,
  options: Float64RuleStepOptions,
): Float64MlpParams {
  const m = sgdMultipliers(widthMultiplier(options));
  const gAtPerturbed = gradientsAt(perturbed, data, options.shape);
  const next = {} as Float64MlpParams;
  for (const name of FLOAT64_MLP_NAMES) {
    next[name] = params[name].map((w, i) => w - options.learningRate * m[name] * (gAtPerturbed[name][i] as number));
  }
  return next;
}

/** SAM: ε_p = ρ·a_p·g_p / (sqrt(Σ b_q‖g_q‖²) + 1e-12); naive a = b = 1, global a = r^-1/2, mup2 a = b = m_p. */
export function float64SamStep(
  params: Float64MlpParams,
  data: Float64StepData,
  options: Float64RuleStepOptions,
): Float64MlpParams {
  const r = widthMultiplier(options);
  const m = sgdMultipliers(r);
  const a = (name: Float64MlpName) =>
    options.scaling === 'naive' ? 1 : options.scaling === 'global' ? 1 / Math.sqrt(r) : m[name];
  const b = (name: Float64MlpName) => (options.scaling === 'mup2' ? m[name] : 1);
  const g = gradientsAt(params, data, options.shape);
  let normSquared = 0;
  for (const name of FLOAT64_MLP_NAMES) for (const value of g[name]) normSquared += b(name) * value * value;
  const denominator = Math.sqrt(normSquared) + 1e-12;
  const perturbed = {} as Float64MlpParams;
  for (const name of FLOAT64_MLP_NAMES) {
    perturbed[name] = params[name].map((w, i) => w + (options.rho * a(name) * (g[name][i] as number)) / denominator);
  }
  return descend(params, perturbed, data, options);
}

/**
 * Elementwise ASAM: T_p = |w_p| + η_T, ε_p = ρ·a·T_p²⊙g_p / (‖T⊙g‖ + 1e-12) with b = 1;
 * naive a = 1, global a = r^-1/2, mup2 a = √r and η_T scaled by s_p per layer. With
 * `normalizeBias: false` the MLP's bias b2 gets T = 1 (SamsungLabs/ASAM's weights-only T); γ, a norm
 * gain, keeps its T.
 */
export function float64AsamStep(
  params: Float64MlpParams,
  data: Float64StepData,
  options: Float64RuleStepOptions & { readonly eta: number; readonly normalizeBias?: boolean },
): Float64MlpParams {
  const r = widthMultiplier(options);
  const s = initStdScales(r);
  const a = options.scaling === 'naive' ? 1 : options.scaling === 'global' ? 1 / Math.sqrt(r) : Math.sqrt(r);
  const etaOf = (name: Float64MlpName) => (options.scaling === 'mup2' ? options.eta * s[name] : options.eta);
  const g = gradientsAt(params, data, options.shape);
  const t = (name: Float64MlpName, i: number) =>
    options.normalizeBias === false && name === 'b2' ? 1 : Math.abs(params[name][i] as number) + etaOf(name);
  let normSquared = 0;
  for (const name of FLOAT64_MLP_NAMES) {
    g[name].forEach((gradient, i) => {
      normSquared += (t(name, i) * gradient) ** 2;
    });
  }
  const denominator = Math.sqrt(normSquared) + 1e-12;
  const perturbed = {} as Float64MlpParams;
  for (const name of FLOAT64_MLP_NAMES) {
    perturbed[name] = params[name].map(
      (w, i) => w + (options.rho * a * t(name, i) ** 2 * (g[name][i] as number)) / denominator,
    );
  }
  return descend(params, perturbed, data, options);
}

/**
 * SAM-ON: only γ (the MLP's one norm parameter) is perturbed,
 * ε_γ = ρ·a·g_γ / (sqrt(b·‖g_γ‖²) + 1e-12); naive a = b = 1, global a = r^-1/2, mup2 a = b = m_γ = r.
 */
export function float64SamOnStep(
  params: Float64MlpParams,
  data: Float64StepData,
  options: Float64RuleStepOptions,
): Float64MlpParams {
  const r = widthMultiplier(options);
  const a = options.scaling === 'naive' ? 1 : options.scaling === 'global' ? 1 / Math.sqrt(r) : r;
  const b = options.scaling === 'mup2' ? r : 1;
  const g = gradientsAt(params, data, options.shape);
  let normSquared = 0;
  for (const value of g.gamma) normSquared += b * value * value;
  const denominator = Math.sqrt(normSquared) + 1e-12;
  const perturbed = { ...params };
  perturbed.gamma = params.gamma.map((w, i) => w + (options.rho * a * (g.gamma[i] as number)) / denominator);
  return descend(params, perturbed, data, options);
}
