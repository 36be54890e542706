import * as tf from '@tensorflow/tfjs-core';
import { ShapeMismatchError } from './errors.js';

/**
 * Kernels a backend may register to run a hot spot of the optimizer step in one pass over memory
 * instead of TF.js's composition of several ops (each one call and one fresh output buffer). Where
 * the active backend has none registered, the composition runs: same values, to float32 rounding.
 * mup2's native backend build registers both on 'tensorflow' (docs/native-backend.md).
 *
 * - `momentumStep`: inputs `w`, `v`, `g` (float32, one shape) and scalars `lr`, `mu`; outputs
 *   `[w − lr·(mu·v + g), mu·v + g]`: heavy-ball SGD for one parameter (muSgd with momentum,
 *   without weight decay or Nesterov).
 * - `checkedMomentumStep`: momentumStep's inputs; its two outputs and a third, the scalar 1 when every
 *   entry of `g` is finite, else 0: the update and the step's check of its gradient in one read of it
 *   (muSgd's applyGradientsIfFinite).
 * - `sumOfSquares`: input `x` (float32); output the scalar Σ x²: a perturbation's squared norm.
 * - `innerProduct`: inputs `x`, `y` (float32, one shape); output the scalar Σ x·y: an inner product
 *   of two gradients (GSAM's, LookSAM's).
 * - `addScaled`: inputs `w`, `d` (float32, one shape) and the scalar `s`; output `w + s·d`: the
 *   weights a perturbation s·d moves a parameter to.
 * - `allFinite`: inputs a list of float32 tensors (any shapes, at least one), passed as an array;
 *   output the scalar 1 when every entry is finite, else 0: the step's check of its gradients.
 * - `movedWeights`: inputs, as one array, the float32 weights w_1 … w_N, directions d_1 … d_N (each
 *   shaped as its w) and norm terms n_1 … n_N (any shapes), then the vectors a and b of N entries and
 *   the scalar radius; outputs w_p + radius·a_p·d_p / (sqrt(norm²) + 1e-12) for each p, then
 *   norm² = Σ_q b_q ‖n_q‖²: a perturbation's whole move in one call (movedWeights).
 */
export const FUSED_KERNELS = {
  momentumStep: 'Mup2MomentumStep',
  checkedMomentumStep: 'Mup2CheckedMomentumStep',
  sumOfSquares: 'Mup2SumOfSquares',
  innerProduct: 'Mup2InnerProduct',
  allFinite: 'Mup2AllFinite',
  addScaled: 'Mup2AddScaled',
  movedWeights: 'Mup2MovedWeights',
} as const;

/** Whether the active backend registered the fused kernel `name` (one of FUSED_KERNELS). */
export function hasFusedKernel(name: (typeof FUSED_KERNELS)[keyof typeof FUSED_KERNELS]): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

/** Σ x², through the backend's fused kernel when it has one, else tf.sum(tf.square(x)). */
export function sumOfSquares(x: tf.Tensor): tf.Scalar {
  if (x.dtype === 'float32' && hasFusedKernel(FUSED_KERNELS.sumOfSquares)) {
    return tf.engine().runKernel(FUSED_KERNELS.sumOfSquares, { x }) as tf.Scalar;
  }
  return tf.tidy(() => tf.sum(tf.square(x)) as tf.Scalar);
}

/**
 * Σ x·y for tensors x and y of one shape (no broadcasting), through the backend's fused kernel when it
 * has one, else tf.sum(tf.mul(x, y)). Throws ShapeMismatchError naming the shapes otherwise.
 */
export function innerProduct(x: tf.Tensor, y: tf.Tensor): tf.Scalar {
  if (!tf.util.arraysEqual(x.shape, y.shape)) {
    throw new ShapeMismatchError(`innerProduct: x and y must have one shape, got x [${x.shape}], y [${y.shape}].`);
  }
  if (x.dtype === 'float32' && y.dtype === 'float32' && hasFusedKernel(FUSED_KERNELS.innerProduct)) {
    return tf.engine().runKernel(FUSED_KERNELS.innerProduct, { x, y }) as tf.Scalar;
  }
  return tf.tidy(() => tf.sum(tf.mul(x, y)) as tf.Scalar);
}

/**
 * Whether every entry of every tensor is finite (no NaN, no ±Infinity): one pass through the
 * backend's fused kernel when it has one, else the sum of each tensor's sum, which is NaN or ±Inf
 * exactly when some entry is, barring overflow of finite entries near 3.4e38 (read as not finite).
 */
export function allFiniteTensors(tensors: readonly tf.Tensor[]): boolean {
  if (tensors.length === 0) return true;
  const fused = tensors.every((x) => x.dtype === 'float32') && hasFusedKernel(FUSED_KERNELS.allFinite);
  const flag = fused
    ? (tf.engine().runKernel(FUSED_KERNELS.allFinite, tensors as unknown as tf.NamedTensorMap) as tf.Scalar)
    : tf.tidy(() => tf.addN(tensors.map((x) => tf.sum(x))));
  const value = flag.dataSync()[0] as number;
  flag.dispose();
  return fused ? value === 1 : Number.isFinite(value);
}

/**
 * One heavy-ball step of a parameter: `[w − lr·(mu·v + g), mu·v + g]`, through the backend's
 * fused kernel when it has one. New tensors; the caller owns them.
 */
export function momentumStep(
  w: tf.Tensor,
  v: tf.Tensor,
  g: tf.Tensor,
  learningRate: number,
  momentum: number,
): [tf.Tensor, tf.Tensor] {
  if (
    w.dtype === 'float32' &&
    v.dtype === 'float32' &&
    g.dtype === 'float32' &&
    hasFusedKernel(FUSED_KERNELS.momentumStep)
  ) {
    return runMomentumKernel(FUSED_KERNELS.momentumStep, w, v, g, learningRate, momentum) as [tf.Tensor, tf.Tensor];
  }
  return tf.tidy(() => {
    const velocity = tf.add(tf.mul(v, momentum), g);
    return [tf.sub(w, tf.mul(velocity, learningRate)), velocity] as [tf.Tensor, tf.Tensor];
  });
}

/**
 * w + s·d for tensors w and d of one shape and a scalar s (no broadcasting), in one pass through the
 * backend's fused kernel when it has one, else TF.js's multiply and add. A new tensor; the caller
 * owns it. Throws ShapeMismatchError naming the shapes otherwise.
 */
export function addScaled(w: tf.Tensor, d: tf.Tensor, s: tf.Scalar): tf.Tensor {
  if (!tf.util.arraysEqual(w.shape, d.shape) || s.rank !== 0) {
    throw new ShapeMismatchError(
      `addScaled: w and d must have one shape and s must be a scalar, got w [${w.shape}], d [${d.shape}], s [${s.shape}].`,
    );
  }
  if (w.dtype === 'float32' && d.dtype === 'float32' && hasFusedKernel(FUSED_KERNELS.addScaled)) {
    return tf.engine().runKernel(FUSED_KERNELS.addScaled, { w, d, s }) as tf.Tensor;
  }
  return tf.tidy(() => tf.add(w, tf.mul(d, s)));
}

/**
 * momentumStep's `[w − lr·(mu·v + g), mu·v + g]` and whether every entry of g is finite (a scalar,
 * 1 or 0), in one pass: the backend's fused kernel, which the caller has found registered
 * (hasFusedKernel) for float32 tensors. New tensors; the caller owns them.
 */
export function checkedMomentumStep(
  w: tf.Tensor,
  v: tf.Tensor,
  g: tf.Tensor,
  learningRate: number,
  momentum: number,
): [tf.Tensor, tf.Tensor, tf.Scalar] {
  return runMomentumKernel(FUSED_KERNELS.checkedMomentumStep, w, v, g, learningRate, momentum) as [
    tf.Tensor,
    tf.Tensor,
    tf.Scalar,
  ];
}

/** A heavy-ball kernel's call: inputs w, v, g and the scalars lr, mu (momentumStep, checkedMomentumStep). */
function runMomentumKernel(
  name: typeof FUSED_KERNELS.momentumStep | typeof FUSED_KERNELS.checkedMomentumStep,
  w: tf.Tensor,
  v: tf.Tensor,
  g: tf.Tensor,
  learningRate: number,
  momentum: number,
): tf.Tensor[] {
  return tf.tidy(
    () => tf.engine().runKernel(name, { w, v, g, lr: tf.scalar(learningRate), mu: tf.scalar(momentum) }) as tf.Tensor[],
  );
}

/** One parameter of a perturbation's move: its weights, the rule's direction and norm term, and its scales a_p and b_p. */
export interface MoveTerms {
  readonly weight: tf.Tensor;
  readonly direction: tf.Tensor;
  readonly normTerm: tf.Tensor;
  readonly perturbationScale: number;
  readonly normScale: number;
}

/**
 * Each w_p + radius·a_p·d_p / (sqrt(Σ_q b_q ‖n_q‖²) + 1e-12) and that Σ (NaN or ±Inf when a norm
 * term is not finite), in one call through the backend's fused kernel; undefined where it has none
 * or a tensor is not float32 (computePerturbation then composes it). New tensors; the caller owns them.
 */
export function movedWeights(
  terms: readonly MoveTerms[],
  radius: number,
): { moved: tf.Tensor[]; normSquared: tf.Scalar } | undefined {
  if (terms.length === 0 || !hasFusedKernel(FUSED_KERNELS.movedWeights)) return undefined;
  const float32 = ({ weight, direction, normTerm }: MoveTerms) =>
    weight.dtype === 'float32' && direction.dtype === 'float32' && normTerm.dtype === 'float32';
  if (!terms.every(float32)) return undefined;
  for (const { weight, direction } of terms) {
    if (!tf.util.arraysEqual(weight.shape, direction.shape)) {
      throw new ShapeMismatchError(
        `movedWeights: each weight and its direction must have one shape, got [${weight.shape}] and [${direction.shape}].`,
      );
    }
  }
  const outputs = tf.tidy(
    () =>
      tf
        .engine()
        .runKernel(FUSED_KERNELS.movedWeights, [
          ...terms.map(({ weight }) => weight),
          ...terms.map(({ direction }) => direction),
          ...terms.map(({ normTerm }) => normTerm),
          tf.tensor1d(terms.map(({ perturbationScale }) => perturbationScale)),
          tf.tensor1d(terms.map(({ normScale }) => normScale)),
          tf.scalar(radius),
        ] as unknown as tf.NamedTensorMap) as tf.Tensor[],
  );
  return { moved: outputs.slice(0, terms.length), normSquared: outputs[terms.length] as tf.Scalar };
}
