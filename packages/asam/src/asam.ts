import {
  assertRadius,
  assertScaling,
  InvalidOptionError,
  type LayerScale,
  type ParamSpec,
  type PerturbationRule,
  type PerturbationScaling,
} from '@mup2/core';
import * as tf from '@tensorflow/tfjs-core';

/** Options of asam(). */
export interface AsamOptions {
  /** The radius ρ (≥ 0), as in the ASAM literature at base width. */
  readonly rho: number;
  /**
   * η_T, the offset in T_p = |w_p| + η_T that keeps zero weights perturbable.
   * Default 0.01, the ASAM paper's value. Under 'mup2' it is scaled per layer like the
   * layer's µP init std, so |w| : η_T does not change with width.
   */
  readonly eta?: number;
  /**
   * 'naive': ε = ρ·T²g/‖Tg‖ (elementwise ASAM); 'global': ρ·r^(-1/2) (µP-global);
   * 'mup2' (default): the µP² scaling a_p = √r, b_p = 1 with η_T scaled per layer, and
   * a_p = r^(-1/2), b_p = 1/r for a parameter none of whose dimensions grows (a readout bias).
   * All three are the same at width multiplier 1.
   */
  readonly scaling?: PerturbationScaling;
  /**
   * Whether biases and norm offsets get T = |w| + η_T too. true (default): T on every parameter, as
   * mueller-mp/SAM-ON's ASAM with `--normalize_bias`. false: T on weights only and T = 1 (a plain SAM
   * direction) on biases and norm offsets, as the ASAM authors' code (SamsungLabs/ASAM, which applies T
   * to parameters named 'weight'; PyTorch names norm gains 'weight' too). Which parameters are biases
   * and offsets: see isBiasOrOffset (by the variable's rank and name, as tfjs-layers names them).
   * T = 1 and |w| + η_T are both Θ(1) for a µP vector, so the µP² scaling is the same either way.
   */
  readonly normalizeBias?: boolean;
}

/** ASAM's default η_T (Kwon et al. 2021). */
export const ASAM_DEFAULT_ETA = 0.01;

/**
 * s_p: how the layer's µP init std changes with width relative to base (docs/mup2-explained.md, "µP itself"):
 * input and vector parameters keep theirs, hidden weights shrink like fanInMult^(-1/2),
 * the readout like fanInMult^(-1). Scaling η_T by it keeps η_T a fixed fraction of |w|.
 */
export function etaScale(spec: Pick<ParamSpec, 'role' | 'fanInMult'>): number {
  if (spec.role === 'hidden') return spec.fanInMult ** -0.5;
  if (spec.role === 'output') return 1 / spec.fanInMult;
  return 1;
}

/**
 * Whether any dimension of the parameter grows with width. A readout bias (one entry per class) does not:
 * its multipliers are both 1 at every width. At width multiplier 1 every parameter looks fixed-size, where
 * both of asam's µP² cases are a = b = 1.
 */
function growsWithWidth(spec: Pick<ParamSpec, 'fanInMult' | 'fanOutMult'>): boolean {
  return spec.fanInMult !== 1 || spec.fanOutMult !== 1;
}

const OFFSET_NAME = /^(?:beta|bias|offset)(?:_\d+)?$/;
const GAIN_NAME = /^(?:gamma|gain|scale|weight)(?:_\d+)?$/;

/**
 * Biases and norm offsets: the parameters `normalizeBias: false` leaves without T (see AsamOptions).
 * A parameter of rank 2 or more is a weight. A vector is told by the last part of its variable's name
 * (tfjs-layers: 'bias' and 'beta' are offsets, 'gamma' a gain), else by its spec: a norm parameter
 * counts as a gain, any other vector as a bias. Without ParamSpecs the name decides.
 */
export function isBiasOrOffset(spec: Pick<ParamSpec, 'norm' | 'variable'>): boolean {
  if (spec.variable.rank > 1) return false;
  const kind = spec.variable.name.split('/').pop() ?? '';
  if (OFFSET_NAME.test(kind)) return true;
  if (GAIN_NAME.test(kind)) return false;
  return !spec.norm;
}

/**
 * Elementwise ASAM (Kwon et al. 2021) with the µP² scalings of docs/mup2-explained.md ("The fix: a layerwise scaling"):
 *
 *   T_p = |w_p| + η_T,   ε_p = ρ · a_p · T_p² ⊙ g_p / ( sqrt( Σ_q b_q ‖T_q ⊙ g_q‖² ) + 1e-12 )
 *
 * 'mup2' takes a_p = √r and b_p = 1 for a parameter with a dimension that grows with width: in µP its
 * ‖T_p ⊙ g_p‖ is Θ(n^-1/2), so one global factor makes its perturbation scale like its µP update. A
 * parameter with no growing dimension (a readout bias) has ‖T_p ⊙ g_p‖ = Θ(1) and takes a_p = r^(-1/2),
 * b_p = 1/r: its normaliser term is then Θ(1/n) like the others' and its ε_p = Θ(1). (The same rule in the
 * gauge where every normaliser term is Θ(1): a = b = r with a growing dimension, a = b = 1 without.)
 */
export function asam(options: AsamOptions): PerturbationRule {
  const { rho, eta = ASAM_DEFAULT_ETA, scaling = 'mup2', normalizeBias = true } = options ?? ({} as AsamOptions);
  assertRadius(rho, 'asam');
  if (typeof eta !== 'number' || !Number.isFinite(eta) || eta < 0) {
    throw new InvalidOptionError(`asam: eta must be a finite number >= 0, got ${String(eta)}.`);
  }
  assertScaling(scaling, 'asam');
  if (typeof normalizeBias !== 'boolean') {
    throw new InvalidOptionError(`asam: normalizeBias must be true or false, got ${String(normalizeBias)}.`);
  }
  return {
    specificationVersion: 'v1',
    name: 'asam',
    radius: rho,
    scaling,
    explicitScaling: options?.scaling !== undefined,
    selects: () => true,
    layerScale(spec: ParamSpec, widthMultiplier: number): LayerScale {
      if (scaling === 'global') return { perturbation: widthMultiplier ** -0.5, norm: 1 };
      if (scaling === 'mup2') {
        if (growsWithWidth(spec)) return { perturbation: Math.sqrt(widthMultiplier), norm: 1 };
        return { perturbation: widthMultiplier ** -0.5, norm: 1 / widthMultiplier };
      }
      return { perturbation: 1, norm: 1 };
    },
    direction({ gradient, weight, spec }) {
      if (!normalizeBias && isBiasOrOffset(spec)) return { direction: gradient, normTerm: gradient };
      const offset = scaling === 'mup2' ? eta * etaScale(spec) : eta;
      const t = tf.add(tf.abs(weight), offset);
      const normTerm = tf.mul(t, gradient);
      return { direction: tf.mul(t, normTerm), normTerm };
    },
  };
}
