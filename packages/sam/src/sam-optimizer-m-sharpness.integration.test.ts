import { type BatchPass, InvalidOptionError, muSgd, SamOptimizer } from '@mup2/core';
import {
  createTinyMlp,
  FLOAT64_MLP_NAMES,
  type Float64MlpName,
  type Float64MlpParams,
  float64Batch,
  float64Init,
  float64LossAndGradients,
  type TinyMlp,
  updateErrors,
} from '@mup2/core/testing';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { sam } from './sam.js';

const BASE_WIDTH = 4;
const WIDTH = 16;
const BATCH = 8;
const shape = { inputSize: 6, width: WIDTH, classes: 3 };
const LR = 0.5;
const RHO = 0.3;

/** m_p = fanOutMult / fanInMult, by hand, for the tiny MLP at width multiplier r. */
const multipliers = (r: number): Record<Float64MlpName, number> => ({ W1: r, gamma: r, W2: 1, b2: r, W3: 1 / r });

type Data = { x: Float64Array; labels: number[] };

function chunkOf(data: Data, start: number, count: number): Data {
  return {
    x: data.x.slice(start * shape.inputSize, (start + count) * shape.inputSize),
    labels: data.labels.slice(start, start + count),
  };
}

/**
 * One m-sharpness SAM step (mup2 scaling) with a µP-SGD base in float64, from the description in
 * google-research/sam and docs/mup2-explained.md: each chunk of m examples takes ε from its own gradient,
 * the descent gradient is the chunk-size-weighted mean of the chunks' gradients at their own w + ε.
 */
function referenceStep(params: Float64MlpParams, data: Data, m: number): { next: Float64MlpParams; loss: number } {
  const r = WIDTH / BASE_WIDTH;
  const mult = multipliers(r);
  const descent = Object.fromEntries(FLOAT64_MLP_NAMES.map((name) => [name, new Float64Array(params[name].length)]));
  let loss = 0;
  for (let start = 0; start < BATCH; start += m) {
    const count = Math.min(m, BATCH - start);
    const chunk = chunkOf(data, start, count);
    const { forward, gradients: g } = float64LossAndGradients(params, chunk.x, chunk.labels, shape);
    let normSquared = 0;
    for (const name of FLOAT64_MLP_NAMES) for (const value of g[name]) normSquared += mult[name] * value * value;
    const denominator = Math.sqrt(normSquared) + 1e-12;
    const perturbed = {} as Float64MlpParams;
    for (const name of FLOAT64_MLP_NAMES) {
      perturbed[name] = params[name].map((w, i) => w + (RHO * mult[name] * (g[name][i] as number)) / denominator);
    }
    const atPerturbed = float64LossAndGradients(perturbed, chunk.x, chunk.labels, shape).gradients;
    for (const name of FLOAT64_MLP_NAMES) {
      const target = descent[name] as Float64Array;
      atPerturbed[name].forEach((value, i) => {
        target[i] = (target[i] as number) + (count / BATCH) * value;
      });
    }
    loss += (count / BATCH) * forward.loss;
  }
  const next = {} as Float64MlpParams;
  for (const name of FLOAT64_MLP_NAMES) {
    next[name] = params[name].map((w, i) => w - LR * mult[name] * ((descent[name] as Float64Array)[i] as number));
  }
  return { next, loss };
}

function setup(seed = 1) {
  const data = float64Batch(seed + 100, { batch: BATCH, inputSize: shape.inputSize, classes: shape.classes });
  const mlp = createTinyMlp(float64Init(shape, seed, { baseWidth: BASE_WIDTH }), shape, BASE_WIDTH);
  const x = tf.tensor2d(Float32Array.from(data.x), [BATCH, shape.inputSize]);
  const y = tf.tensor1d(data.labels, 'int32');
  const dispose = () => {
    tf.dispose([x, y]);
    mlp.dispose();
  };
  return { data, mlp, x, y, dispose };
}

const optimizerFor = (mlp: TinyMlp, options: { mSharpness?: number; rho?: number } = {}) =>
  new SamOptimizer({
    base: muSgd(LR, mlp.specs),
    rule: sam({ rho: options.rho ?? RHO, scaling: 'mup2' }),
    params: mlp.specs,
    ...(options.mSharpness !== undefined && { mSharpness: options.mSharpness }),
  });

const batchLoss = (mlp: TinyMlp) => (inputs: tf.Tensor[]) =>
  mlp.loss(inputs[0] as tf.Tensor2D, inputs[1] as tf.Tensor1D);

describe('SamOptimizer m-sharpness (minimizeOnBatch with mSharpness m)', () => {
  for (const m of [4, 3, 1]) {
    it(`matches a float64 m-sharpness step with m = ${m} of a batch of ${BATCH} (mup2, width multiplier 4)`, () => {
      const { data, mlp, x, y, dispose } = setup();
      const start = mlp.read();
      const optimizer = optimizerFor(mlp, { mSharpness: m });
      const before = tf.memory().numTensors;
      const cost = optimizer.minimizeOnBatch(batchLoss(mlp), [x, y], true, Object.values(mlp.variables));
      const loss = cost?.dataSync()[0] as number;
      cost?.dispose();
      expect(tf.memory().numTensors, 'tensors left behind by the step').toBe(before);
      const reference = referenceStep(start, data, m);
      for (const [name, { scale, relativeError }] of Object.entries(updateErrors(start, mlp.read(), reference.next))) {
        expect(scale, `${name} must move`).toBeGreaterThan(0);
        expect(relativeError, `${name}: largest error relative to the largest update`).toBeLessThan(2e-3);
      }
      expect(loss).toBeCloseTo(reference.loss, 5);
      optimizer.dispose();
      dispose();
    });
  }

  it('differs from plain SAM when m < batch (the chunks really get their own ε)', () => {
    const { data, mlp } = setup();
    const start = mlp.read();
    const whole = referenceStep(start, data, BATCH).next;
    const chunked = referenceStep(start, data, 2).next;
    const gap = Math.max(...whole.W2.map((value, i) => Math.abs(value - (chunked.W2[i] as number))));
    expect(gap).toBeGreaterThan(1e-4);
    mlp.dispose();
  });

  for (const m of [BATCH, BATCH + 5]) {
    it(`with m = ${m} (>= the batch) is bit for bit today's SAM step (minimize), over 3 steps`, () => {
      const plain = setup();
      const chunked = setup();
      const plainOptimizer = optimizerFor(plain.mlp);
      const chunkedOptimizer = optimizerFor(chunked.mlp, { mSharpness: m });
      for (let step = 0; step < 3; step++) {
        plainOptimizer.minimize(() => plain.mlp.loss(plain.x, plain.y), false, Object.values(plain.mlp.variables));
        chunkedOptimizer.minimizeOnBatch(
          batchLoss(chunked.mlp),
          [chunked.x, chunked.y],
          false,
          Object.values(chunked.mlp.variables),
        );
      }
      const [a, b] = [plain.mlp.read(), chunked.mlp.read()];
      for (const name of FLOAT64_MLP_NAMES) expect(Array.from(b[name]), name).toEqual(Array.from(a[name]));
      for (const disposable of [plainOptimizer, chunkedOptimizer, plain, chunked]) disposable.dispose();
    });
  }

  it('takes BatchNorm-like statistics from the unperturbed passes only: the chunk-weighted mean of their updates', () => {
    const { data, mlp, x, y, dispose } = setup(3);
    const start = mlp.read();
    // A moving mean of the first layer's pre-activation, updated by every forward pass as BatchNorm's is.
    const moving = tf.variable(tf.zeros([WIDTH]), false, 'test_moving_mean');
    const loss = (inputs: tf.Tensor[]) => {
      const [chunkX, chunkY] = inputs as [tf.Tensor2D, tf.Tensor1D];
      moving.assign(
        tf.tidy(() =>
          tf.add(tf.mul(moving, 0.9), tf.mul(tf.mean(tf.matMul(chunkX, mlp.variables.W1 as tf.Tensor2D), 0), 0.1)),
        ),
      );
      return mlp.loss(chunkX, chunkY);
    };
    const m = 3;
    const optimizer = optimizerFor(mlp, { mSharpness: m });
    optimizer.minimizeOnBatch(loss, [x, y], false, Object.values(mlp.variables));
    // Each chunk's pass at the starting weights moves 0 → 0.1·mean(x_c W1); weighted by chunk size.
    const expected = new Float64Array(WIDTH);
    for (let first = 0; first < BATCH; first += m) {
      const count = Math.min(m, BATCH - first);
      for (let row = first; row < first + count; row++)
        for (let j = 0; j < WIDTH; j++) {
          let z = 0;
          for (let k = 0; k < shape.inputSize; k++) {
            z += (data.x[row * shape.inputSize + k] as number) * (start.W1[k * WIDTH + j] as number);
          }
          expected[j] = (expected[j] as number) + (count / BATCH) * 0.1 * (z / count);
        }
    }
    const actual = moving.dataSync();
    for (let j = 0; j < WIDTH; j++) expect(actual[j], `moving mean ${j}`).toBeCloseTo(expected[j] as number, 5);
    moving.dispose();
    optimizer.dispose();
    dispose();
  });

  it('tells the loss which pass and chunk each call is for: at w, then at w + ε, chunk by chunk', () => {
    const { mlp, x, y, dispose } = setup();
    const calls: BatchPass[] = [];
    const sizes: number[] = [];
    const optimizer = optimizerFor(mlp, { mSharpness: 3 });
    optimizer.minimizeOnBatch(
      (inputs, pass) => {
        calls.push(pass);
        sizes.push(inputs[0]?.shape[0] as number);
        return batchLoss(mlp)(inputs);
      },
      [x, y],
      false,
      Object.values(mlp.variables),
    );
    expect(calls).toEqual([0, 0, 1, 1, 2, 2].map((chunk, i) => ({ perturbed: i % 2 === 1, chunk, chunks: 3 })));
    expect(sizes).toEqual([3, 3, 3, 3, 2, 2]);
    optimizer.dispose();
    dispose();
  });

  it('leaks no tensors over 30 steps with a momentum base', () => {
    const before = tf.memory().numTensors;
    const { mlp, x, y, dispose } = setup();
    const optimizer = new SamOptimizer({
      base: muSgd(0.05, mlp.specs, { momentum: 0.9 }),
      rule: sam({ rho: 0.05 }),
      params: mlp.specs,
      mSharpness: 3,
    });
    const step = () => {
      optimizer.minimizeOnBatch(batchLoss(mlp), [x, y], true, Object.values(mlp.variables))?.dispose();
    };
    step();
    const afterFirst = tf.memory().numTensors;
    for (let i = 1; i < 30; i++) step();
    expect(tf.memory().numTensors).toBe(afterFirst);
    optimizer.dispose();
    dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('with rho = 0 is the base step on the chunks (no perturbation, no extra pass)', () => {
    const { data, mlp, x, y, dispose } = setup();
    const start = mlp.read();
    let calls = 0;
    const optimizer = optimizerFor(mlp, { mSharpness: 4, rho: 0 });
    optimizer.minimizeOnBatch(
      (inputs) => {
        calls += 1;
        return batchLoss(mlp)(inputs);
      },
      [x, y],
      false,
      Object.values(mlp.variables),
    );
    expect(calls).toBe(2);
    const g = float64LossAndGradients(start, data.x, data.labels, shape).gradients;
    const mult = multipliers(WIDTH / BASE_WIDTH);
    const expected = Object.fromEntries(
      FLOAT64_MLP_NAMES.map((name) => [name, start[name].map((w, i) => w - LR * mult[name] * (g[name][i] as number))]),
    ) as unknown as Float64MlpParams;
    for (const [name, { relativeError }] of Object.entries(updateErrors(start, mlp.read(), expected))) {
      expect(relativeError, name).toBeLessThan(2e-3);
    }
    optimizer.dispose();
    dispose();
  });

  it('refuses minimize (a closure cannot be split), bad m, and inputs that are not one batch', () => {
    const { mlp, x, y, dispose } = setup();
    const optimizer = optimizerFor(mlp, { mSharpness: 4 });
    expect(() => optimizer.minimize(() => mlp.loss(x, y))).toThrowError(InvalidOptionError);
    expect(() => optimizer.minimize(() => mlp.loss(x, y))).toThrowError(/mSharpness 4 .* call minimizeOnBatch/);
    for (const bad of [0, 2.5, -1]) {
      expect(() => optimizerFor(mlp, { mSharpness: bad })).toThrowError(
        `mSharpness must be a positive integer, got ${bad}`,
      );
    }
    const short = tf.zeros([5]);
    expect(() => optimizer.minimizeOnBatch(batchLoss(mlp), [x, short])).toThrowError(
      /different numbers of examples \(8 in input 0, 5 in input 1\)/,
    );
    expect(() => optimizer.minimizeOnBatch(batchLoss(mlp), [])).toThrowError(/non-empty list of tensors/);
    expect(optimizer.iterations, 'nothing was applied').toBe(0);
    tf.dispose(short);
    optimizer.dispose();
    dispose();
  });
});
