import * as tf from '@tensorflow/tfjs';
import { ADDON_LAYER_KERNELS } from './addon-kernels.js';
import { biasAdd } from './bias-add.js';
import { fastBatchMatMul } from './fast-batch-matmul.js';
import { fastMatMul } from './fast-matmul.js';
import { groupedConvAttention } from './grouped-conv-attention.js';
import { layerForms } from './layer-forms.js';

/** The projections of one multi-head self-attention layer: [width, width] kernels and [width] biases. */
export interface AttentionWeights {
  readonly query: tf.Tensor2D;
  readonly key: tf.Tensor2D;
  readonly value: tf.Tensor2D;
  readonly output: tf.Tensor2D;
  readonly queryBias: tf.Tensor1D;
  readonly keyBias: tf.Tensor1D;
  readonly valueBias: tf.Tensor1D;
  readonly outputBias: tf.Tensor1D;
}

export interface AttentionShape {
  /** Sequences in the batch; the input holds batch·tokens rows. */
  readonly batch: number;
  readonly tokens: number;
  readonly heads: number;
  /** Multiplies q·k before the softmax: 1/√d_head in SP, ∝ 1/d_head in µP. */
  readonly scale: number;
  /**
   * How the per-head products run: 'grouped-conv' (depthwise convolutions, ~3× faster
   * on wasm), 'batched-matmul' (faster on cpu and tensorflow), 'addon-kernel' (batched
   * matMuls with mup2's kernels around them: tensorflow with the addon), or 'auto'
   * (default): the backend's choice in layerForms(). All give the same values.
   */
  readonly kernel?: 'auto' | 'grouped-conv' | 'batched-matmul' | 'addon-kernel';
}

/** [outer, a, b, inner] → [outer, b, a, inner] in one kernel of mup2's addon. */
const swapAxes = (x: tf.Tensor, dims: [number, number, number, number]): tf.Tensor4D =>
  tf.engine().runKernel(ADDON_LAYER_KERNELS.swapAxes, { x: tf.reshape(x, dims) }) as tf.Tensor4D;

/** [batch·tokens, heads·dHead] → [batch·heads, tokens, dHead], or its transpose [batch·heads, dHead, tokens]. */
function splitHeads(x: tf.Tensor2D, shape: AttentionShape, transposed: boolean, addon: boolean): tf.Tensor3D {
  const { batch, tokens, heads } = shape;
  const headSize = x.shape[1] / heads;
  if (addon) {
    return transposed
      ? (tf.reshape(swapAxes(x, [batch, tokens, heads * headSize, 1]), [
          batch * heads,
          headSize,
          tokens,
        ]) as tf.Tensor3D)
      : (tf.reshape(swapAxes(x, [batch, tokens, heads, headSize]), [batch * heads, tokens, headSize]) as tf.Tensor3D);
  }
  const perHead = tf.reshape(x, [batch, tokens, heads, headSize]);
  return transposed
    ? (tf.reshape(tf.transpose(perHead, [0, 2, 3, 1]), [batch * heads, headSize, tokens]) as tf.Tensor3D)
    : (tf.reshape(tf.transpose(perHead, [0, 2, 1, 3]), [batch * heads, tokens, headSize]) as tf.Tensor3D);
}

function mergeHeads(x: tf.Tensor3D, shape: AttentionShape, addon: boolean): tf.Tensor2D {
  const { batch, tokens, heads } = shape;
  const headSize = x.shape[2];
  if (addon) {
    return tf.reshape(swapAxes(x, [batch, heads, tokens, headSize]), [batch * tokens, heads * headSize]) as tf.Tensor2D;
  }
  const perHead = tf.reshape(x, [batch, heads, tokens, headSize]);
  return tf.reshape(tf.transpose(perHead, [0, 2, 1, 3]), [batch * tokens, heads * headSize]) as tf.Tensor2D;
}

/**
 * softmax(scale·q·kᵀ)·v per head, for q, k, v of [batch·tokens, width]. The
 * scale is applied to q (batch·tokens·width values) rather than to the scores
 * (batch·heads·tokens² values), except in mup2's softmax kernel, which applies
 * it in the same pass.
 */
export function scaledDotProductAttention(
  query: tf.Tensor2D,
  key: tf.Tensor2D,
  value: tf.Tensor2D,
  shape: AttentionShape,
): tf.Tensor2D {
  if (!(shape.scale > 0)) {
    throw new Error(`scaledDotProductAttention: scale must be a positive number, got ${shape.scale}.`);
  }
  return tf.tidy(() => {
    const requested = shape.kernel ?? 'auto';
    const kernel = requested === 'auto' ? layerForms().attention : requested;
    if (kernel === 'addon-kernel') return batchedMatMulAttention(query, key, value, shape, true);
    const scaled = tf.mul(query, shape.scale) as tf.Tensor2D;
    if (kernel === 'grouped-conv') {
      const dims = {
        batch: shape.batch,
        tokens: shape.tokens,
        heads: shape.heads,
        headSize: query.shape[1] / shape.heads,
      };
      return groupedConvAttention(scaled, key, value, dims);
    }
    return batchedMatMulAttention(scaled, key, value, shape, false);
  });
}

/**
 * The same with batched matMuls. The keys are transposed once, as data, so that
 * both products are plain batched matMuls, and their gradients
 * (fastBatchMatMul) avoid the transposed forms. With `addon`, the heads' split and
 * merge and the softmax are mup2's kernels, and the softmax applies shape.scale (the
 * query comes unscaled); without, the query comes scaled.
 */
function batchedMatMulAttention(
  query: tf.Tensor2D,
  key: tf.Tensor2D,
  value: tf.Tensor2D,
  shape: AttentionShape,
  addon: boolean,
): tf.Tensor2D {
  const q = splitHeads(query, shape, false, addon);
  const kTransposed = splitHeads(key, shape, true, addon);
  const v = splitHeads(value, shape, false, addon);
  const scores = fastBatchMatMul(q, kTransposed);
  const weights = addon
    ? (tf.engine().runKernel(ADDON_LAYER_KERNELS.softmax, { x: scores }, { scale: shape.scale }) as tf.Tensor3D)
    : tf.softmax(scores);
  return mergeHeads(fastBatchMatMul(weights, v), shape, addon);
}

/**
 * Multi-head self-attention on x [batch·tokens, width]: the output
 * projection's result and its input (the merged heads, which the coordinate
 * check needs as the input of the output kernel).
 */
export function selfAttention(
  x: tf.Tensor2D,
  weights: AttentionWeights,
  shape: AttentionShape,
): { output: tf.Tensor2D; context: tf.Tensor2D } {
  const width = x.shape[1];
  if (width % shape.heads !== 0) {
    throw new Error(`selfAttention: width ${width} is not divisible by ${shape.heads} heads.`);
  }
  if (x.shape[0] !== shape.batch * shape.tokens) {
    throw new Error(`selfAttention: expected ${shape.batch}·${shape.tokens} rows, got ${x.shape[0]}.`);
  }
  return tf.tidy(() => {
    const project = (kernel: tf.Tensor2D, bias: tf.Tensor1D) => biasAdd(fastMatMul(x, kernel), bias);
    const context = scaledDotProductAttention(
      project(weights.query, weights.queryBias),
      project(weights.key, weights.keyBias),
      project(weights.value, weights.valueBias),
      shape,
    );
    return { output: biasAdd(fastMatMul(context, weights.output), weights.outputBias), context };
  });
}
