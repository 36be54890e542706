import { enableMSharpness, InvalidOptionError, SamOptimizer } from '@mup2/core';
import {
  FLOAT64_MLP_NAMES,
  type Float64MlpParams,
  float64Batch,
  float64Init,
  float64LossAndGradients,
} from '@mup2/core/testing';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { sam } from './sam.js';

// m-sharpness inside model.fit (tf-keras's num_batch_splits): enableMSharpness(model) splits each
// batch into chunks of mSharpness examples, each with its own ε, and descends once along the
// chunk-size-weighted mean. Checked against a float64 computation of exactly that, on a
// tfjs-layers MLP whose layers are the float64 MLP of @mup2/core/testing with γ = 1.

const INPUT = 5;
const WIDTH = 8;
const CLASSES = 3;
const SHAPE = { inputSize: INPUT, width: WIDTH, classes: CLASSES };
const RHO = 0.3;
const LR = 0.5;

/** Mean softmax cross-entropy from logits, per example (tfjs-layers averages it over the batch). */
const crossEntropy = (yTrue: tf.Tensor, logits: tf.Tensor) =>
  tf.losses.softmaxCrossEntropy(yTrue, logits, undefined, undefined, tf.Reduction.NONE);

/** x·W1 → relu → ·W2 + b2 → relu → ·W3: the float64 MLP with γ = 1, as a tfjs-layers model. */
function layersMlp(params: Float64MlpParams): tf.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: WIDTH, inputShape: [INPUT], useBias: false, activation: 'relu' }),
      tf.layers.dense({ units: WIDTH, activation: 'relu' }),
      tf.layers.dense({ units: CLASSES, useBias: false }),
    ],
  });
  model.setWeights([
    tf.tensor2d(Float32Array.from(params.W1), [INPUT, WIDTH]),
    tf.tensor2d(Float32Array.from(params.W2), [WIDTH, WIDTH]),
    tf.tensor1d(Float32Array.from(params.b2)),
    tf.tensor2d(Float32Array.from(params.W3), [WIDTH, CLASSES]),
  ]);
  return model;
}

const TRAINED: readonly (keyof Float64MlpParams)[] = ['W1', 'W2', 'b2', 'W3'];

function readMlp(model: tf.Sequential): Float64MlpParams {
  const [W1, W2, b2, W3] = model.getWeights().map((weight) => Float64Array.from(weight.dataSync()));
  return { W1: W1!, gamma: new Float64Array(WIDTH).fill(1), W2: W2!, b2: b2!, W3: W3! };
}

/** Rows [start, start + count) of a batch. */
function rows(data: { x: Float64Array; labels: number[] }, start: number, count: number) {
  return { x: data.x.slice(start * INPUT, (start + count) * INPUT), labels: data.labels.slice(start, start + count) };
}

/**
 * One m-sharpness SAM step in float64: per chunk ε = ρ·g/‖g‖ (over W1, W2, b2, W3: γ is not a
 * weight of the model), g' at w + ε; w ← w − η·Σ_c (n_c / n)·g'_c. Also the batch loss and
 * accuracy at w, which fit reports.
 */
function float64Step(params: Float64MlpParams, data: { x: Float64Array; labels: number[] }, chunk: number) {
  const size = data.labels.length;
  const descent = Object.fromEntries(TRAINED.map((name) => [name, new Float64Array(params[name].length)]));
  let loss = 0;
  for (let start = 0; start < size; start += chunk) {
    const count = Math.min(chunk, size - start);
    const part = rows(data, start, count);
    const { forward, gradients } = float64LossAndGradients(params, part.x, part.labels, SHAPE);
    loss += (forward.loss * count) / size;
    let normSquared = 0;
    for (const name of TRAINED) for (const value of gradients[name]) normSquared += value * value;
    const scale = RHO / (Math.sqrt(normSquared) + 1e-12);
    const perturbed = { ...params };
    for (const name of TRAINED)
      perturbed[name] = params[name].map((w, i) => w + scale * (gradients[name][i] as number));
    const atPerturbed = float64LossAndGradients(perturbed, part.x, part.labels, SHAPE).gradients;
    for (const name of TRAINED) {
      atPerturbed[name].forEach((value, i) => {
        (descent[name] as Float64Array)[i] = ((descent[name] as Float64Array)[i] as number) + (value * count) / size;
      });
    }
  }
  const next = { ...params };
  for (const name of TRAINED)
    next[name] = params[name].map((w, i) => w - LR * ((descent[name] as Float64Array)[i] as number));
  return { next, loss };
}

function batchTensors(data: { x: Float64Array; labels: number[] }) {
  const size = data.labels.length;
  return {
    x: tf.tensor2d(Float32Array.from(data.x), [size, INPUT]),
    y: tf.oneHot(tf.tensor1d(data.labels, 'int32'), CLASSES).toFloat(),
  };
}

function expectClose(actual: Float64MlpParams, expected: Float64MlpParams, start: Float64MlpParams, what: string) {
  for (const name of TRAINED) {
    let scale = 0;
    let worst = 0;
    expected[name].forEach((value, i) => {
      scale = Math.max(scale, Math.abs(value - (start[name][i] as number)));
      worst = Math.max(worst, Math.abs((actual[name][i] as number) - value));
    });
    expect(scale, `${what}: ${name} moves`).toBeGreaterThan(1e-4);
    expect(worst / scale, `${what}: ${name}, largest error relative to the largest update`).toBeLessThan(2e-3);
  }
}

describe('m-sharpness in model.fit (enableMSharpness)', () => {
  it('takes per chunk its own ε and descends once along the weighted mean, as float64 says; fit reports the batch loss', async () => {
    const initial = float64Init(SHAPE, 3);
    const model = enableMSharpness(layersMlp(initial));
    const start = readMlp(model);
    const optimizer = new SamOptimizer({
      base: tf.train.sgd(LR),
      rule: sam({ rho: RHO, scaling: 'naive' }),
      mSharpness: 5,
    });
    model.compile({ optimizer, loss: crossEntropy, metrics: ['accuracy'] });
    // Two batches of 12: chunks of 5, 5 and 2, so the weights are not all equal.
    const data = float64Batch(11, { batch: 24, inputSize: INPUT, classes: CLASSES });
    const { x, y } = batchTensors(data);
    const tensors = tf.memory().numTensors;
    const history = await model.fit(x, y, { epochs: 1, batchSize: 12, shuffle: false, verbose: 0 });
    expect(tf.memory().numTensors, 'tensors after fit').toBe(tensors);
    const first = float64Step(start, rows(data, 0, 12), 5);
    const second = float64Step(first.next, rows(data, 12, 12), 5);
    expectClose(readMlp(model), second.next, start, 'after two batches');
    expect(optimizer.iterations, 'one step per batch').toBe(2);
    // fit's epoch loss is the mean of its batches' losses, each the weighted mean of the chunks' losses at w.
    expect(history.history.loss?.[0] as number).toBeCloseTo((first.loss + second.loss) / 2, 5);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('equals minimizeOnBatch with the same mSharpness, and trainOnBatch runs it too', async () => {
    const initial = float64Init(SHAPE, 4);
    const data = float64Batch(12, { batch: 10, inputSize: INPUT, classes: CLASSES });
    const { x, y } = batchTensors(data);
    const results: Float64MlpParams[] = [];
    for (const entry of ['trainOnBatch', 'minimizeOnBatch'] as const) {
      const model = layersMlp(initial);
      const optimizer = new SamOptimizer({
        base: tf.train.sgd(LR),
        rule: sam({ rho: RHO, scaling: 'naive' }),
        mSharpness: 4,
      });
      if (entry === 'trainOnBatch') {
        model.compile({ optimizer, loss: crossEntropy });
        enableMSharpness(model);
        const tensors = tf.memory().numTensors;
        await model.trainOnBatch(x, y);
        expect(tf.memory().numTensors, 'tensors after trainOnBatch').toBe(tensors);
      } else {
        optimizer.minimizeOnBatch(
          ([chunkX, chunkY]) =>
            tf.mean(crossEntropy(chunkY as tf.Tensor, model.apply(chunkX as tf.Tensor) as tf.Tensor)),
          [x, y],
          false,
          model.trainableWeights.map((weight) => weight.read() as tf.Variable),
        );
      }
      results.push(readMlp(model));
      optimizer.dispose();
      model.dispose();
    }
    const [viaFit, viaBatch] = results as [Float64MlpParams, Float64MlpParams];
    for (const name of FLOAT64_MLP_NAMES) {
      viaFit[name].forEach((value, i) => expect(value).toBeCloseTo(viaBatch[name][i] as number, 6));
    }
    tf.dispose([x, y]);
  });

  it('gives BatchNorm the weighted mean of the chunks’ statistics at w, and a NaN chunk under skip changes nothing', async () => {
    const momentum = 0.8;
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ units: WIDTH, inputShape: [INPUT], activation: 'relu' }),
        tf.layers.batchNormalization({ momentum }),
        tf.layers.dense({ units: CLASSES }),
      ],
    });
    const optimizer = new SamOptimizer({
      base: tf.train.sgd(0.1),
      rule: sam({ rho: 0.05, scaling: 'naive' }),
      mSharpness: 4,
      nonFinite: 'skip',
    });
    model.compile({ optimizer, loss: crossEntropy });
    enableMSharpness(model);
    const data = float64Batch(13, { batch: 10, inputSize: INPUT, classes: CLASSES });
    const { x, y } = batchTensors(data);
    const [kernel, bias] = model.layers[0]!.getWeights().map((weight) => Array.from(weight.dataSync()));
    const movingMeanBefore = Array.from((model.layers[1] as tf.layers.Layer).getWeights()[2]!.dataSync());
    await model.fit(x, y, { epochs: 1, batchSize: 10, shuffle: false, verbose: 0 });
    // Chunks of 4, 4, 2: each pass at w moves the mean from the same start; the result is their weighted mean.
    const hidden = (row: number, unit: number) =>
      Math.max(
        0,
        (bias![unit] as number) +
          Array.from(
            { length: INPUT },
            (_, i) => (data.x[row * INPUT + i] as number) * (kernel![i * WIDTH + unit] as number),
          ).reduce((sum, value) => sum + value, 0),
      );
    const expected = movingMeanBefore.map((before, unit) => {
      let mean = 0;
      for (const [start, count] of [
        [0, 4],
        [4, 4],
        [8, 2],
      ] as const) {
        let chunkMean = 0;
        for (let row = start; row < start + count; row++) chunkMean += hidden(row, unit) / count;
        mean += (count / 10) * (momentum * before + (1 - momentum) * chunkMean);
      }
      return mean;
    });
    const movingMean = Array.from((model.layers[1] as tf.layers.Layer).getWeights()[2]!.dataSync());
    movingMean.forEach((value, unit) => expect(value).toBeCloseTo(expected[unit] as number, 5));
    // A batch whose second chunk is NaN: under 'skip' the step is left out whole, statistics included.
    const weightsBefore = model.getWeights().map((weight) => Array.from(weight.dataSync()));
    const poisoned = tf.tidy(() =>
      x.where(
        tf
          .range(0, 10)
          .reshape([10, 1])
          .less(4)
          .logicalOr(tf.range(0, 10).reshape([10, 1]).greaterEqual(8)),
        tf.fill([10, INPUT], Number.NaN),
      ),
    );
    await model.fit(poisoned, y, { epochs: 1, batchSize: 10, shuffle: false, verbose: 0 });
    expect(optimizer.skippedSteps).toBe(1);
    model.getWeights().forEach((weight, index) => expect(Array.from(weight.dataSync())).toEqual(weightsBefore[index]));
    tf.dispose([x, y, poisoned]);
    model.dispose();
  });

  it('leaves a model without m-sharpness as it was, and minimize outside fit still refuses m-sharpness, naming enableMSharpness', () => {
    const model = layersMlp(float64Init(SHAPE, 5));
    const optimizer = new SamOptimizer({
      base: tf.train.sgd(LR),
      rule: sam({ rho: RHO, scaling: 'naive' }),
      mSharpness: 4,
    });
    const w = model.trainableWeights[0]!.read() as tf.Variable;
    expect(() => optimizer.minimize(() => tf.sum(w) as tf.Scalar)).toThrowError(InvalidOptionError);
    expect(() => optimizer.minimize(() => tf.sum(w) as tf.Scalar)).toThrowError(/enableMSharpness\(model\)/);
    expect(() => enableMSharpness({} as never)).toThrowError(/expected a tfjs-layers LayersModel/);
    expect(enableMSharpness(enableMSharpness(model))).toBe(model);
    optimizer.dispose();
    model.dispose();
  });
});
