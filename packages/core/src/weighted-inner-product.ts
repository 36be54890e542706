import * as tf from '@tensorflow/tfjs-core';
import { innerProduct, sumOfSquares } from './fused-kernels.js';

/** One parameter's share of an inner product: its two tensors and its weight b_p. */
export interface WeightedPair {
  readonly left: tf.Tensor;
  readonly right: tf.Tensor;
  /** b_p, the weight of the parameter in the rule's normaliser (`scale.norm` of a DescentParameter). */
  readonly weight: number;
}

/**
 * Σ_p b_p ⟨left_p, right_p⟩: the inner product in the geometry of a rule's normaliser, the one in
 * which ‖g‖² = Σ_p b_p ‖g_p‖². Under a rule's 'mup2' scaling (b_p = m_p) every layer's term is
 * Θ(1) in width, so a cosine or a projection taken in it weighs every layer, where the plain one
 * is the readout's alone in a wide µP network. A weight of 1 multiplies nothing, so at width
 * multiplier 1 every scaling gives the same value bit for bit. A pair whose left and right are the
 * same tensor (a squared norm) takes the backend's fused sum of squares where it has one, any other
 * pair its fused inner product (tf.sum(tf.mul(left, right)) without them); left and right of a
 * pair must have one shape (ShapeMismatchError otherwise).
 */
export function weightedInnerProduct(pairs: readonly WeightedPair[]): tf.Scalar {
  return tf.tidy(() => {
    if (pairs.length === 0) return tf.scalar(0);
    const terms = pairs.map(({ left, right, weight }) => {
      const term = left === right ? sumOfSquares(left) : innerProduct(left, right);
      return weight === 1 ? term : (tf.mul(term, weight) as tf.Scalar);
    });
    return tf.addN(terms);
  });
}
