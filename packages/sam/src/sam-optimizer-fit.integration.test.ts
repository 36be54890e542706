import { describeParams, muSgd, SamOptimizer } from '@mup2/core';
import { seededRandom } from '@mup2/core/testing';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { sam } from './sam.js';

const FEATURES = 4;
const CLASSES = 3;

/** Points whose class is the argmax of a fixed linear map: learnable by a small MLP. */
function makeData(count: number, seed: number) {
  const uniform = seededRandom(seed);
  const x = Array.from({ length: count }, () => Array.from({ length: FEATURES }, () => uniform() * 2 - 1));
  const map = [
    [1, -1, 0.5],
    [-0.5, 1, 1],
    [1, 0.5, -1],
    [0, -1, 1],
  ];
  const labels = x.map((row) => {
    const scores = [0, 1, 2].map((c) =>
      row.reduce((sum, value, i) => sum + value * ((map[i] as number[])[c] as number), 0),
    );
    return scores.indexOf(Math.max(...scores));
  });
  const oneHot = labels.map((label) => [0, 1, 2].map((c) => (c === label ? 1 : 0)));
  return { x: tf.tensor2d(x), y: tf.tensor2d(oneHot), labels };
}

/** A seeded MLP (Glorot-uniform kernels, seeds 1 and 2), so that every run trains the same weights. */
function mlp(width: number, options: { batchNorm?: { momentum: number } } = {}): tf.Sequential {
  const kernelInitializer = (seed: number) => tf.initializers.glorotUniform({ seed });
  const layers: tf.layers.Layer[] = [
    tf.layers.dense({
      units: width,
      inputShape: [FEATURES],
      activation: 'relu',
      kernelInitializer: kernelInitializer(1),
    }),
  ];
  if (options.batchNorm) layers.push(tf.layers.batchNormalization({ momentum: options.batchNorm.momentum }));
  layers.push(tf.layers.dense({ units: CLASSES, activation: 'softmax', kernelInitializer: kernelInitializer(2) }));
  return tf.sequential({ layers });
}

describe('SamOptimizer in model.fit', () => {
  it('trains a µP model with BatchNorm and accuracy metrics; the loss falls and numTensors stays flat', async () => {
    const model = mlp(32, { batchNorm: { momentum: 0.9 } });
    const base = mlp(8, { batchNorm: { momentum: 0.9 } });
    const params = describeParams(model, base);
    base.dispose();
    const optimizer = new SamOptimizer({ base: muSgd(0.1, params), rule: sam({ rho: 0.05 }), params });
    model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const { x, y } = makeData(96, 1);
    const tensorsAfterEpoch: number[] = [];
    const history = await model.fit(x, y, {
      epochs: 5,
      batchSize: 16,
      shuffle: false,
      verbose: 0,
      callbacks: { onEpochEnd: async () => void tensorsAfterEpoch.push(tf.memory().numTensors) },
    });
    // 6 batches per epoch: one leaked tensor per batch would add 24 between epoch 1 and 5.
    expect(tensorsAfterEpoch[4]).toBe(tensorsAfterEpoch[0]);
    const losses = history.history.loss as number[];
    expect(losses[4]!).toBeLessThan(0.9 * losses[0]!);
    expect(history.history.acc ?? history.history.accuracy).toHaveLength(5);
    expect(optimizer.iterations).toBe(30);
    model.dispose();
    optimizer.dispose();
    tf.dispose([x, y]);
  });

  it('trainOnBatch returns the loss and accuracy at the unperturbed weights, without leaking', async () => {
    const model = mlp(16);
    const optimizer = new SamOptimizer({ base: tf.train.sgd(0.1), rule: sam({ rho: 0.5 }) });
    model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const { x, y, labels } = makeData(32, 2);
    const growth: number[] = [];
    for (let step = 0; step < 3; step++) {
      // The loss before the step, in float64 from the model's own predictions: −mean log p(label).
      // (Computed before counting tensors: tfjs-layers' predict itself keeps a tensor per call.)
      const predictions = tf.tidy(() => model.predict(x) as tf.Tensor2D).arraySync();
      const expectedLoss =
        -labels.reduce((sum, label, i) => sum + Math.log((predictions[i] as number[])[label] as number), 0) /
        labels.length;
      const expectedAccuracy =
        labels.filter((label, i) => predictions[i]!.indexOf(Math.max(...predictions[i]!)) === label).length /
        labels.length;
      const before = tf.memory().numTensors;
      const result = (await model.trainOnBatch(x, y)) as number[];
      growth.push(tf.memory().numTensors - before);
      expect(result[0]).toBeCloseTo(expectedLoss, 5);
      expect(result[1]).toBeCloseTo(expectedAccuracy, 6);
    }
    expect(growth).toEqual([0, 0, 0]);
    model.dispose();
    optimizer.dispose();
    tf.dispose([x, y]);
  });
});

describe('SamOptimizer and BatchNorm moving statistics', () => {
  it('after one SAM step equal those after one training-mode forward pass of an identical model', async () => {
    // Momentum 0.5 and a large ρ make a second update, at w + ε, plainly visible.
    const trained = mlp(8, { batchNorm: { momentum: 0.5 } });
    const reference = mlp(8, { batchNorm: { momentum: 0.5 } });
    reference.setWeights(trained.getWeights());
    const optimizer = new SamOptimizer({ base: tf.train.sgd(0.1), rule: sam({ rho: 1 }) });
    trained.compile({ optimizer, loss: 'categoricalCrossentropy' });
    const { x, y } = makeData(32, 3);
    const movingStatistics = (model: tf.LayersModel) =>
      model.layers[1]!.weights.filter((weight) => /moving/.test(weight.name)).map((weight) =>
        Array.from(weight.read().dataSync()),
      );

    const initial = movingStatistics(trained);
    await trained.trainOnBatch(x, y);
    tf.tidy(() => reference.apply(x, { training: true }) as tf.Tensor);

    const afterStep = movingStatistics(trained);
    const afterForward = movingStatistics(reference);
    expect(afterStep).toHaveLength(2);
    expect(afterForward[0]).not.toEqual(initial[0]); // the forward pass did update them
    expect(afterStep[0]).toEqual(afterForward[0]);
    expect(afterStep[1]).toEqual(afterForward[1]);
    for (const disposable of [trained, reference, optimizer]) disposable.dispose();
    tf.dispose([x, y]);
  });
});
