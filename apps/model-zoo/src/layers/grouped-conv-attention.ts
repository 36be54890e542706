import * as tf from '@tensorflow/tfjs';

/** Sequences, tokens, heads and head size of one attention call. */
export interface AttentionDims {
  readonly batch: number;
  readonly tokens: number;
  readonly heads: number;
  readonly headSize: number;
}

/**
 * out[i, g, j] = Σ_k left[i, k, g] · right[k, g, j] for every group g, as one
 * depthwise convolution: left is a 1 × I image of K columns and G channels,
 * right a 1 × K filter with channel multiplier J, and a 'valid' pass leaves
 * one column per row.
 */
function groupedProduct(left: tf.Tensor3D, right: tf.Tensor3D): tf.Tensor3D {
  const [rows, inner, groups] = left.shape;
  const columns = right.shape[2];
  const image = tf.reshape(left, [1, rows, inner, groups]) as tf.Tensor4D;
  const filter = tf.reshape(right, [1, inner, groups, columns]) as tf.Tensor4D;
  return tf.reshape(tf.depthwiseConv2d(image, filter, 1, 'valid'), [rows, groups, columns]) as tf.Tensor3D;
}

/**
 * softmax(q·kᵀ)·v per head for q, k, v of [batch·tokens, heads·headSize]
 * (already scaled), computed with depthwise convolutions. wasm runs every
 * batched matMul (batch > 1) through a scalar triple loop
 * (tfjs-backend-wasm's slow_batch_matmul) whether or not it is transposed,
 * while its depthwise convolution is XNNPACK's grouped GEMM: this form is
 * about 3× faster there, forward and backward. Each product reads its operands
 * in a layout with the group g = (sequence, head) innermost or in the middle,
 * so the only extra work is one transpose per operand.
 */
export function groupedConvAttention(
  query: tf.Tensor2D,
  key: tf.Tensor2D,
  value: tf.Tensor2D,
  dims: AttentionDims,
): tf.Tensor2D {
  const { batch, tokens, heads, headSize } = dims;
  const groups = batch * heads;
  const width = heads * headSize;
  const perHead = (x: tf.Tensor) => tf.reshape(x, [batch, tokens, heads, headSize]) as tf.Tensor4D;
  /** [batch, tokens, heads, headSize] → [tokens, headSize, g]. */
  const tokensDepthGroups = (x: tf.Tensor4D) =>
    tf.reshape(tf.transpose(x, [1, 3, 0, 2]), [tokens, headSize, groups]) as tf.Tensor3D;
  /** [batch, tokens, heads, headSize] → [headSize, g, tokens]. */
  const depthGroupsTokens = (x: tf.Tensor4D) =>
    tf.reshape(tf.transpose(x, [3, 0, 2, 1]), [headSize, groups, tokens]) as tf.Tensor3D;
  /** [batch, tokens, heads, headSize] → [tokens, g, headSize]. */
  const tokensGroupsDepth = (x: tf.Tensor4D) =>
    tf.reshape(tf.transpose(x, [1, 0, 2, 3]), [tokens, groups, headSize]) as tf.Tensor3D;
  /** [tokens, g, headSize] → [batch·tokens, width]. */
  const merged = (x: tf.Tensor3D) =>
    tf.reshape(tf.transpose(tf.reshape(x, [tokens, batch, heads, headSize]), [1, 0, 2, 3]), [
      batch * tokens,
      width,
    ]) as tf.Tensor2D;

  const core = tf.customGrad((queryInput, keyInput, valueInput, save) => {
    const q = perHead(queryInput as tf.Tensor);
    const k = perHead(keyInput as tf.Tensor);
    const v = perHead(valueInput as tf.Tensor);
    // Scores and probabilities as [i, g, j]: the softmax runs over the innermost axis.
    const probabilities = tf.softmax(groupedProduct(tokensDepthGroups(q), depthGroupsTokens(k)));
    const context = groupedProduct(tf.transpose(probabilities, [0, 2, 1]) as tf.Tensor3D, tokensGroupsDepth(v));
    (save as tf.GradSaveFunc)([q, k, v, probabilities]);
    return {
      value: merged(context),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedQ, savedK, savedV, p] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor3D];
        const upstream = perHead(dy);
        // ∂/∂p[i,g,j] = Σ_d dy[i,g,d]·v[j,g,d];  ∂/∂v[j,g,d] = Σ_i p[i,g,j]·dy[i,g,d].
        const dProbabilities = groupedProduct(tokensDepthGroups(upstream), depthGroupsTokens(savedV));
        const dValue = groupedProduct(tf.transpose(p, [2, 0, 1]) as tf.Tensor3D, tokensGroupsDepth(upstream));
        // Softmax: ∂/∂s = p ⊙ (∂/∂p − Σ_j p ⊙ ∂/∂p).
        const dScores = tf.mul(p, tf.sub(dProbabilities, tf.sum(tf.mul(dProbabilities, p), 2, true))) as tf.Tensor3D;
        // ∂/∂q[i,g,d] = Σ_j ds[i,g,j]·k[j,g,d];  ∂/∂k[j,g,d] = Σ_i ds[i,g,j]·q[i,g,d].
        const dQuery = groupedProduct(tf.transpose(dScores, [0, 2, 1]) as tf.Tensor3D, tokensGroupsDepth(savedK));
        const dKey = groupedProduct(tf.transpose(dScores, [2, 0, 1]) as tf.Tensor3D, tokensGroupsDepth(savedQ));
        return [merged(dQuery), merged(dKey), merged(dValue)];
      },
    };
  });
  return core(query, key, value) as tf.Tensor2D;
}
