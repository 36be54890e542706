import { type BatchLoss, NonFiniteGradientError, SamOptimizer, type SamOptimizerOptions } from '@mup2/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { sam } from './sam.js';

// A step that is not taken (a NaN batch under nonFinite 'throw' or 'skip') must leave the model as it
// was: the pass at w runs in training mode and moves BatchNorm's statistics before any gradient is
// checked, so without putting them back `predict` returns NaN for ever.

const FEATURES = 6;
const CLASSES = 3;
const BATCH = 16;

/** dense → BatchNorm (momentum 0.5, so one update is plainly visible) → dense softmax, seeded. */
function makeModel(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({
        units: 8,
        inputShape: [FEATURES],
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      tf.layers.batchNormalization({ momentum: 0.5 }),
      tf.layers.dense({
        units: CLASSES,
        activation: 'softmax',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
      }),
    ],
  });
}

/** A seeded batch; `poisonedRow` puts one NaN into that example's inputs. */
function makeBatch(seed: number, poisonedRow?: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  return tf.tidy(() => {
    const values = tf.randomNormal([BATCH, FEATURES], 0, 1, 'float32', seed).arraySync() as number[][];
    if (poisonedRow !== undefined) (values[poisonedRow] as number[])[2] = Number.NaN;
    const labels = tf.randomUniform([BATCH], 0, CLASSES, 'int32', seed + 100);
    return { x: tf.tensor2d(values), y: tf.oneHot(labels, CLASSES).toFloat() as tf.Tensor2D };
  });
}

const probe = makeBatch(7);

/** What a user sees of the model: inference predictions, and every weight with BatchNorm's moving statistics. */
function observe(model: tf.LayersModel) {
  const predictions = tf.tidy(() => Array.from((model.predict(probe.x) as tf.Tensor).dataSync()));
  const weights = model.getWeights().map((weight) => Array.from(weight.dataSync()));
  return { predictions, weights };
}

/** The optimizer's state as values, by position (two models' variables have different names). */
async function optimizerState(optimizer: SamOptimizer) {
  const entries = await optimizer.getWeights();
  const state = entries.map(({ tensor }) => Array.from(tensor.dataSync()));
  // The base's slots are its live variables; the rest are copies made for the call.
  tf.dispose(entries.map(({ tensor }) => tensor).filter((tensor) => !(tensor instanceof tf.Variable)));
  return state;
}

function makeOptimizer(options: Partial<SamOptimizerOptions> = {}): SamOptimizer {
  return new SamOptimizer({ base: tf.train.momentum(0.1, 0.9), rule: sam({ rho: 0.5 }), ...options });
}

const trainable = (model: tf.LayersModel) => model.trainableWeights.map((weight) => weight.read() as tf.Variable);

/** The mean cross-entropy of `model` in training mode (BatchNorm uses and updates the batch statistics). */
const lossOf = (model: tf.LayersModel) => (x: tf.Tensor, y: tf.Tensor) =>
  tf.losses.softmaxCrossEntropy(y, tf.log(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar;

/** A model after one clean step, so that optimizer state (momentum) and statistics are not at their start. */
async function trainedOnce(optimizer: SamOptimizer) {
  const model = makeModel();
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  const clean = makeBatch(1);
  await model.trainOnBatch(clean.x, clean.y);
  tf.dispose([clean.x, clean.y]);
  return model;
}

/** What tfjs-layers' fit itself leaves behind when its optimizer's minimize throws, measured as in the test below. */
async function fitLeakWhenMinimizeThrows(batch: { x: tf.Tensor; y: tf.Tensor }): Promise<number> {
  const optimizer = tf.train.sgd(0.1);
  const model = makeModel();
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  await model.trainOnBatch(probe.x, probe.y);
  optimizer.minimize = () => {
    throw new Error('refused');
  };
  const tensors = tf.memory().numTensors;
  await expect(model.fit(batch.x, batch.y, { epochs: 1, batchSize: BATCH, verbose: 0 })).rejects.toThrow('refused');
  const leak = tf.memory().numTensors - tensors;
  model.dispose();
  optimizer.dispose();
  return leak;
}

describe('a rejected SamOptimizer step leaves everything as it was, BatchNorm statistics included', () => {
  it('a clean step does move the moving statistics (so the checks below can fail)', async () => {
    const optimizer = makeOptimizer();
    const model = await trainedOnce(optimizer);
    const before = observe(model);
    const clean = makeBatch(2);
    await model.trainOnBatch(clean.x, clean.y);
    const after = observe(model);
    expect(after.weights[3]).not.toEqual(before.weights[3]); // BatchNorm's moving mean
    expect(after.predictions).not.toEqual(before.predictions);
    tf.dispose([clean.x, clean.y]);
    model.dispose();
    optimizer.dispose();
  });

  it("model.fit on a NaN batch with nonFinite 'throw': the error, then predict exactly as before", async () => {
    const optimizer = makeOptimizer();
    const model = await trainedOnce(optimizer);
    const before = observe(model);
    const stateBefore = await optimizerState(optimizer);
    const bad = makeBatch(2, 3);
    const tensors = tf.memory().numTensors;
    await expect(model.fit(bad.x, bad.y, { epochs: 1, batchSize: BATCH, verbose: 0 })).rejects.toSatisfy((error) =>
      NonFiniteGradientError.isInstance(error),
    );
    expect(tf.memory().numTensors - tensors).toBe(await fitLeakWhenMinimizeThrows(bad));
    expect(observe(model)).toEqual(before);
    expect(await optimizerState(optimizer)).toEqual(stateBefore);
    // Training goes on from there.
    const history = await model.fit(probe.x, probe.y, { epochs: 1, batchSize: BATCH, verbose: 0 });
    expect(Number.isFinite(history.history.loss?.[0] as number)).toBe(true);
    expect(observe(model).predictions.every(Number.isFinite)).toBe(true);
    tf.dispose([bad.x, bad.y]);
    model.dispose();
    optimizer.dispose();
  });

  it("model.fit with nonFinite 'skip' over clean, NaN, clean batches ends bit for bit where clean, clean does", async () => {
    const skipping = makeOptimizer({ nonFinite: 'skip' });
    const reference = makeOptimizer({ nonFinite: 'skip' });
    const withNaN = await trainedOnce(skipping);
    const without = await trainedOnce(reference);
    const [first, bad, last] = [makeBatch(3), makeBatch(4, 3), makeBatch(5)];
    const fit = (model: tf.LayersModel, batches: Array<{ x: tf.Tensor; y: tf.Tensor }>) => {
      const x = tf.concat(batches.map((batch) => batch.x));
      const y = tf.concat(batches.map((batch) => batch.y));
      return model
        .fit(x, y, { epochs: 1, batchSize: BATCH, shuffle: false, verbose: 0 })
        .finally(() => tf.dispose([x, y]));
    };
    await fit(withNaN, [first, bad, last]);
    await fit(without, [first, last]);
    expect(skipping.skippedSteps).toBe(1);
    expect(skipping.iterations).toBe(reference.iterations);
    const observed = observe(withNaN);
    expect(observed.predictions.every(Number.isFinite)).toBe(true);
    expect(observed).toEqual(observe(without));
    expect((await optimizerState(skipping)).slice(3)).toEqual((await optimizerState(reference)).slice(3));
    tf.dispose([first, bad, last].flatMap((batch) => [batch.x, batch.y]));
    for (const disposable of [withNaN, without, skipping, reference]) disposable.dispose();
  });

  for (const nonFinite of ['throw', 'skip'] as const) {
    it(`a custom loop (minimize) on a NaN batch with nonFinite '${nonFinite}': predict exactly as before`, async () => {
      const optimizer = makeOptimizer({ nonFinite });
      const model = await trainedOnce(optimizer);
      const loss = lossOf(model);
      const before = observe(model);
      const bad = makeBatch(2, 3);
      const tensors = tf.memory().numTensors;
      const step = () => optimizer.minimize(() => loss(bad.x, bad.y), false, trainable(model));
      if (nonFinite === 'throw') expect(step).toThrowError(NonFiniteGradientError);
      else step();
      expect(tf.memory().numTensors).toBe(tensors);
      expect(observe(model)).toEqual(before);
      expect(optimizer.iterations).toBe(1);
      tf.dispose([bad.x, bad.y]);
      model.dispose();
      optimizer.dispose();
    });
  }

  it('a NaN only at w + ε (the second gradient) also puts back what the pass at w moved', async () => {
    const optimizer = makeOptimizer({ nonFinite: 'skip' });
    const model = await trainedOnce(optimizer);
    const loss = lossOf(model);
    const before = observe(model);
    const batch = makeBatch(2);
    const poisonPerturbed: BatchLoss = ([x, y], pass) =>
      tf.mul(loss(x as tf.Tensor, y as tf.Tensor), pass.perturbed ? Number.NaN : 1) as tf.Scalar;
    const tensors = tf.memory().numTensors;
    optimizer.minimizeOnBatch(poisonPerturbed, [batch.x, batch.y], false, trainable(model));
    expect(optimizer.skippedSteps).toBe(1);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(observe(model)).toEqual(before);
    tf.dispose([batch.x, batch.y]);
    model.dispose();
    optimizer.dispose();
  });

  it('m-sharpness: a NaN in the second chunk, or at w + ε of the averaged step, leaves the statistics as they were', async () => {
    const optimizer = makeOptimizer({ nonFinite: 'skip', mSharpness: BATCH / 2 });
    const model = makeModel();
    const loss = lossOf(model);
    const lossAt: BatchLoss = ([x, y]) => loss(x as tf.Tensor, y as tf.Tensor);
    const clean = makeBatch(1);
    optimizer.minimizeOnBatch(lossAt, [clean.x, clean.y], false, trainable(model));
    const before = observe(model);
    const bad = makeBatch(2, BATCH - 3); // the first chunk is clean: its pass moves the statistics
    const tensors = tf.memory().numTensors;
    optimizer.minimizeOnBatch(lossAt, [bad.x, bad.y], false, trainable(model));
    const poisonPerturbed: BatchLoss = ([x, y], pass) =>
      tf.mul(loss(x as tf.Tensor, y as tf.Tensor), pass.perturbed && pass.chunk === 1 ? Number.NaN : 1) as tf.Scalar;
    optimizer.minimizeOnBatch(poisonPerturbed, [clean.x, clean.y], false, trainable(model));
    expect(optimizer.skippedSteps).toBe(2);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(observe(model)).toEqual(before);
    tf.dispose([clean.x, clean.y, bad.x, bad.y]);
    model.dispose();
    optimizer.dispose();
  });

  it('ε reuse: a rejected step that computed ε keeps neither it nor the statistics; the kept ε stays as it was', async () => {
    const optimizer = makeOptimizer({ nonFinite: 'skip', perturbationInterval: 2 });
    const model = makeModel();
    const loss = lossOf(model);
    const clean = makeBatch(1);
    for (let step = 0; step < 2; step++) optimizer.minimize(() => loss(clean.x, clean.y), false, trainable(model));
    // Step 2 computes a new ε; its pass at w is clean, its pass at w + ε is not.
    const before = observe(model);
    const stateBefore = await optimizerState(optimizer);
    let calls = 0;
    const poisonSecond = () => {
      calls += 1;
      return tf.mul(loss(clean.x, clean.y), calls === 2 ? Number.NaN : 1) as tf.Scalar;
    };
    const tensors = tf.memory().numTensors;
    optimizer.minimize(poisonSecond, false, trainable(model));
    expect(calls).toBe(2);
    expect(optimizer.skippedSteps).toBe(1);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(observe(model)).toEqual(before);
    const stateAfter = await optimizerState(optimizer);
    // Entry 2 is the count of skipped steps; entry 3 the step at which the kept ε was computed.
    expect(stateAfter[3]).toEqual([0]);
    expect([...stateAfter.slice(0, 2), ...stateAfter.slice(3)]).toEqual([
      ...stateBefore.slice(0, 2),
      ...stateBefore.slice(3),
    ]);
    tf.dispose([clean.x, clean.y]);
    model.dispose();
    optimizer.dispose();
  });

  it('computePerturbation on a training-mode loss leaves the moving statistics as they were', () => {
    const optimizer = makeOptimizer();
    const model = makeModel();
    const loss = lossOf(model);
    const before = observe(model);
    const perturbation = optimizer.computePerturbation(() => loss(probe.x, probe.y), trainable(model));
    expect(Object.keys(perturbation)).toHaveLength(trainable(model).length);
    tf.dispose(Object.values(perturbation));
    expect(observe(model)).toEqual(before);
    model.dispose();
    optimizer.dispose();
  });
});
