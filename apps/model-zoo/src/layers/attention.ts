import * as tf from '@tensorflow/tfjs';
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
   * on wasm), 'batched-matmul' (faster on cpu and tensorflow), or 'auto' (default):
   * the backend's choice in layerForms(). Both give the same values.
   */
  readonly kernel?: 'auto' | 'grouped-conv' | 'batched-matmul';
}

/** [batch·tokens, heads·dHead] → [batch·heads, tokens, dHead], or its transpose [batch·heads, dHead, tokens]. */
function splitHeads(x: tf.Tensor2D, shape: AttentionShape, transposed: boolean): tf.Tensor3D {
  const { batch, tokens, heads } = shape;
  const headSize = x.shape[1] / heads;
  const perHead = tf.reshape(x, [batch, tokens, heads, headSize]);
  return transposed
    ? (tf.reshape(tf.transpose(perHead, [0, 2, 3, 1]), [batch * heads, headSize, tokens]) as tf.Tensor3D)
    : (tf.reshape(tf.transpose(perHead, [0, 2, 1, 3]), [batch * heads, tokens, headSize]) as tf.Tensor3D);
}

function mergeHeads(x: tf.Tensor3D, shape: AttentionShape): tf.Tensor2D {
  const { batch, tokens, heads } = shape;
  const headSize = x.shape[2];
  const perHead = tf.reshape(x, [batch, heads, tokens, headSize]);
  return tf.reshape(tf.transpose(perHead, [0, 2, 1, 3]), [batch * tokens, heads * headSize]) as tf.Tensor2D;
}

/**
 * softmax(scale·q·kᵀ)·v per head, for q, k, v of [batch·tokens, width]. The
 * scale is applied to q (batch·tokens·width values) rather than to the scores
 * (batch·heads·tokens² values).
 */
export function scaledDotProductAttention(
  query: tf.Tensor2D,
  key: tf.Tensor2D,
  value: tf.Tensor2D,
  shape: AttentionShape,
): tf.Tensor2D {
  return tf.tidy(() => {
    const scaled = tf.mul(query, shape.scale) as tf.Tensor2D;
    const requested = shape.kernel ?? 'auto';
    const kernel = requested === 'auto' ? layerForms().attention : requested;
    if (kernel === 'grouped-conv') {
      const dims = {
        batch: shape.batch,
        tokens: shape.tokens,
        heads: shape.heads,
        headSize: query.shape[1] / shape.heads,
      };
      return groupedConvAttention(scaled, key, value, dims);
    }
    return batchedMatMulAttention(scaled, key, value, shape);
  });
}

/**
 * The same with batched matMuls. The keys are transposed once, as data, so that
 * both products are plain batched matMuls, and their gradients
 * (fastBatchMatMul) avoid the transposed forms.
 */
function batchedMatMulAttention(
  query: tf.Tensor2D,
  key: tf.Tensor2D,
  value: tf.Tensor2D,
  shape: AttentionShape,
): tf.Tensor2D {
  const q = splitHeads(query, shape, false);
  const kTransposed = splitHeads(key, shape, true);
  const v = splitHeads(value, shape, false);
  const weights = tf.softmax(fastBatchMatMul(q, kTransposed));
  return mergeHeads(fastBatchMatMul(weights, v), shape);
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
