import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { type AttentionShape, type AttentionWeights, scaledDotProductAttention, selfAttention } from './attention.js';
import { addonFormRuns } from './tensorflow-kernels.js';
import { maxAbsDifference, testValues } from './test-values.js';

const testBackend = tf.getBackend();
afterEach(async () => {
  await tf.setBackend(testBackend);
});

const batch = 2;
const tokens = 3;
const width = 4;
const heads = 2;
const headSize = width / heads;
const scale = 0.6;

type Matrix = number[][];
const matrix = (values: number[], rows: number, cols: number): Matrix =>
  Array.from({ length: rows }, (_, r) => values.slice(r * cols, (r + 1) * cols));
const product = (a: Matrix, b: Matrix): Matrix =>
  a.map((row) =>
    (b[0] as number[]).map((_, j) => row.reduce((sum, value, k) => sum + value * ((b[k] as number[])[j] as number), 0)),
  );
const plusRow = (a: Matrix, bias: number[]): Matrix =>
  a.map((row) => row.map((value, j) => value + (bias[j] as number)));

const raw = {
  x: testValues(batch * tokens * width, 1, 1.5),
  query: testValues(width * width, 2),
  key: testValues(width * width, 3),
  value: testValues(width * width, 4),
  output: testValues(width * width, 5),
  queryBias: testValues(width, 6, 0.2),
  keyBias: testValues(width, 7, 0.2),
  valueBias: testValues(width, 8, 0.2),
  outputBias: testValues(width, 9, 0.2),
};

/** Self-attention in float64, written per sequence, head, query and key. */
function attention64(): { output: number[]; context: number[] } {
  const x = matrix(raw.x, batch * tokens, width);
  const q = plusRow(product(x, matrix(raw.query, width, width)), raw.queryBias);
  const k = plusRow(product(x, matrix(raw.key, width, width)), raw.keyBias);
  const v = plusRow(product(x, matrix(raw.value, width, width)), raw.valueBias);
  const context: Matrix = Array.from({ length: batch * tokens }, () => new Array<number>(width).fill(0));
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < tokens; i++) {
        const scores = Array.from({ length: tokens }, (_, j) => {
          let dot = 0;
          for (let d = 0; d < headSize; d++) {
            dot +=
              (q[b * tokens + i] as number[])[h * headSize + d]! * (k[b * tokens + j] as number[])[h * headSize + d]!;
          }
          return scale * dot;
        });
        const top = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - top));
        const total = exps.reduce((a, e) => a + e, 0);
        for (let d = 0; d < headSize; d++) {
          let sum = 0;
          for (let j = 0; j < tokens; j++)
            sum += ((exps[j] as number) / total) * (v[b * tokens + j] as number[])[h * headSize + d]!;
          (context[b * tokens + i] as number[])[h * headSize + d] = sum;
        }
      }
    }
  }
  const output = plusRow(product(context, matrix(raw.output, width, width)), raw.outputBias);
  return { output: output.flat(), context: context.flat() };
}

function weights(): AttentionWeights {
  return {
    query: tf.tensor2d(raw.query, [width, width]),
    key: tf.tensor2d(raw.key, [width, width]),
    value: tf.tensor2d(raw.value, [width, width]),
    output: tf.tensor2d(raw.output, [width, width]),
    queryBias: tf.tensor1d(raw.queryBias),
    keyBias: tf.tensor1d(raw.keyBias),
    valueBias: tf.tensor1d(raw.valueBias),
    outputBias: tf.tensor1d(raw.outputBias),
  };
}

/** The same layer from stock ops (tf.matMul with transposeB, stock gradients), for the gradient comparison. */
function stockAttention(x: tf.Tensor2D, w: AttentionWeights): tf.Tensor2D {
  const split = (t: tf.Tensor2D) =>
    tf.transpose(tf.reshape(t, [batch, tokens, heads, headSize]), [0, 2, 1, 3]) as tf.Tensor4D;
  const q = split(tf.add(tf.matMul(x, w.query), w.queryBias));
  const k = split(tf.add(tf.matMul(x, w.key), w.keyBias));
  const v = split(tf.add(tf.matMul(x, w.value), w.valueBias));
  const probabilities = tf.softmax(tf.mul(tf.matMul(q, k, false, true), scale));
  const context = tf.reshape(tf.transpose(tf.matMul(probabilities, v), [0, 2, 1, 3]), [batch * tokens, width]);
  return tf.add(tf.matMul(context, w.output), w.outputBias);
}

// mup2's kernels around the batched products where the addon runs (tensorflow with `pnpm native:install`).
const kernels: NonNullable<AttentionShape['kernel']>[] = [
  'grouped-conv',
  'batched-matmul',
  ...(addonFormRuns('attention', testBackend) ? (['addon-kernel'] as const) : []),
];

describe.each(kernels)('selfAttention with %s products', (kernel) => {
  it('equals softmax(scale·q·kᵀ)·v per head, then the output projection (float64)', () => {
    const expected = attention64();
    const { output, context } = tf.tidy(() => {
      const result = selfAttention(tf.tensor2d(raw.x, [batch * tokens, width]), weights(), {
        batch,
        tokens,
        heads,
        scale,
        kernel,
      });
      return { output: Array.from(result.output.dataSync()), context: Array.from(result.context.dataSync()) };
    });
    expect(maxAbsDifference(context, expected.context)).toBeLessThan(1e-5);
    expect(maxAbsDifference(output, expected.output)).toBeLessThan(1e-5);
  });

  it('has the gradients of the stock-op composition (cpu) for the input and all eight parameters', async () => {
    const upstream = testValues(batch * tokens * width, 10);
    const run = (ours: boolean) =>
      tf.tidy(() => {
        const w = weights();
        const x = tf.tensor2d(raw.x, [batch * tokens, width]);
        const inputs = [x, w.query, w.key, w.value, w.output, w.queryBias, w.keyBias, w.valueBias, w.outputBias];
        const gradients = tf.grads((...args: tf.Tensor[]) => {
          const [input, query, key, value, output, queryBias, keyBias, valueBias, outputBias] = args as [
            tf.Tensor2D,
            tf.Tensor2D,
            tf.Tensor2D,
            tf.Tensor2D,
            tf.Tensor2D,
            tf.Tensor1D,
            tf.Tensor1D,
            tf.Tensor1D,
            tf.Tensor1D,
          ];
          const layerWeights = { query, key, value, output, queryBias, keyBias, valueBias, outputBias };
          const y = ours
            ? selfAttention(input, layerWeights, { batch, tokens, heads, scale, kernel }).output
            : stockAttention(input, layerWeights);
          return tf.sum(tf.mul(y, tf.tensor2d(upstream, [batch * tokens, width])));
        })(inputs);
        return gradients.map((g) => Array.from(g.dataSync()));
      });
    await tf.setBackend('cpu');
    const expected = run(false);
    await tf.setBackend(testBackend);
    const actual = run(true);
    expect(actual).toHaveLength(9);
    actual.forEach((gradient, i) => expect(maxAbsDifference(gradient, expected[i] as number[])).toBeLessThan(1e-4));
  });

  it('gives the same values on cpu as on the test backend', async () => {
    const run = (products = kernel) =>
      tf.tidy(() =>
        Array.from(
          selfAttention(tf.tensor2d(raw.x, [batch * tokens, width]), weights(), {
            batch,
            tokens,
            heads,
            scale,
            kernel: products,
          }).output.dataSync(),
        ),
      );
    await tf.setBackend('cpu');
    // cpu has no addon: its batched products stand in for the addon's.
    const onCpu = run(kernel === 'addon-kernel' ? 'batched-matmul' : kernel);
    await tf.setBackend(testBackend);
    expect(maxAbsDifference(run(), onCpu)).toBeLessThan(1e-5);
  });

  it('rejects a width not divisible by the heads', () => {
    const x = tf.zeros([6, 4]) as tf.Tensor2D;
    expect(() => selfAttention(x, weights(), { batch: 2, tokens: 3, heads: 3, scale: 1 })).toThrow(/divisible/);
  });

  it('rejects a scale that is not positive, naming it', () => {
    const q = tf.zeros([6, 4]) as tf.Tensor2D;
    const shape = { batch: 2, tokens: 3, heads: 2, kernel };
    expect(() => scaledDotProductAttention(q, q, q, { ...shape, scale: 0 })).toThrow(
      /scale must be a positive number, got 0/,
    );
    expect(() => scaledDotProductAttention(q, q, q, { ...shape, scale: Number.NaN })).toThrow(/got NaN/);
    q.dispose();
  });
});
