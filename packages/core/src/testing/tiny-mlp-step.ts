import * as tf from '@tensorflow/tfjs-core';
import { muSgd } from '../mu-sgd.js';
import type { PerturbationRule } from '../perturbation-rule.js';
import { SamOptimizer } from '../sam-optimizer.js';
import { type Float64MlpParams, type Float64MlpShape, float64Init } from './float64-mlp.js';
import { float64Batch } from './float64-step-check.js';
import { createTinyMlp } from './tiny-mlp.js';

export interface TinyMlpStepOptions {
  readonly rule: PerturbationRule;
  readonly width: number;
  readonly baseWidth: number;
  /** η of the µP-SGD base optimizer. */
  readonly learningRate: number;
  /** Initialisation seed; the batch uses seed + 100. Default 1. */
  readonly seed?: number;
  readonly batch?: number;
  readonly inputSize?: number;
  readonly classes?: number;
}

export interface TinyMlpStep {
  readonly shape: Float64MlpShape;
  readonly data: { x: Float64Array; labels: number[] };
  /** The float32-rounded starting weights, as float64: the point a float64 reference step starts from. */
  readonly start: Float64MlpParams;
  /** The weights after one SamOptimizer step. */
  readonly result: Float64MlpParams;
  /** The loss the step returned (its first pass). */
  readonly loss: number;
  /** Tensors the step left behind (0 when it leaks nothing). */
  readonly leakedTensors: number;
}

/**
 * One SAM step of `rule` with a µP-SGD base on the tiny MLP (µP init, a seeded
 * batch), for comparison with a float64 reference step computed from `start`
 * and `data`. Everything it creates is disposed.
 */
export function runTinyMlpStep(options: TinyMlpStepOptions): TinyMlpStep {
  const seed = options.seed ?? 1;
  const batch = options.batch ?? 8;
  const shape = { inputSize: options.inputSize ?? 6, width: options.width, classes: options.classes ?? 3 };
  const data = float64Batch(seed + 100, { batch, inputSize: shape.inputSize, classes: shape.classes });
  const mlp = createTinyMlp(float64Init(shape, seed, { baseWidth: options.baseWidth }), shape, options.baseWidth);
  const start = mlp.read();
  const optimizer = new SamOptimizer({
    base: muSgd(options.learningRate, mlp.specs),
    rule: options.rule,
    params: mlp.specs,
  });
  const x = tf.tensor2d(Float32Array.from(data.x), [batch, shape.inputSize]);
  const y = tf.tensor1d(data.labels, 'int32');
  const before = tf.memory().numTensors;
  const cost = optimizer.minimize(() => mlp.loss(x, y), true, Object.values(mlp.variables));
  const loss = cost?.dataSync()[0] ?? Number.NaN;
  cost?.dispose();
  const leakedTensors = tf.memory().numTensors - before;
  const result = mlp.read();
  tf.dispose([x, y]);
  mlp.dispose();
  optimizer.dispose();
  return { shape, data, start, result, loss, leakedTensors };
}

export interface TinyMlpStepsOptions extends TinyMlpStepOptions {
  /** How many steps, each on its own batch (seeds seed + 100, seed + 101, …). */
  readonly steps: number;
}

export interface TinyMlpSteps {
  readonly shape: Float64MlpShape;
  /** The batch of each step. */
  readonly data: Array<{ x: Float64Array; labels: number[] }>;
  /** The float32-rounded starting weights, as float64. */
  readonly start: Float64MlpParams;
  /** The weights after each step. */
  readonly results: Float64MlpParams[];
  /** Tensors the optimizer held after the last step, beyond what it held after the first (0 when nothing grows). */
  readonly tensorGrowth: number;
}

/**
 * Several SAM steps of `rule` with a µP-SGD base on the tiny MLP, a new batch each step: for a
 * rule with state across steps (a v2 rule), compared step by step with a float64 reference run
 * from `start` on `data`. Everything it creates is disposed.
 */
export function runTinyMlpSteps(options: TinyMlpStepsOptions): TinyMlpSteps {
  const seed = options.seed ?? 1;
  const batch = options.batch ?? 8;
  const shape = { inputSize: options.inputSize ?? 6, width: options.width, classes: options.classes ?? 3 };
  const mlp = createTinyMlp(float64Init(shape, seed, { baseWidth: options.baseWidth }), shape, options.baseWidth);
  const start = mlp.read();
  const optimizer = new SamOptimizer({
    base: muSgd(options.learningRate, mlp.specs),
    rule: options.rule,
    params: mlp.specs,
  });
  const data: Array<{ x: Float64Array; labels: number[] }> = [];
  const results: Float64MlpParams[] = [];
  let afterFirst = 0;
  for (let step = 0; step < options.steps; step++) {
    const batchData = float64Batch(seed + 100 + step, { batch, inputSize: shape.inputSize, classes: shape.classes });
    data.push(batchData);
    const x = tf.tensor2d(Float32Array.from(batchData.x), [batch, shape.inputSize]);
    const y = tf.tensor1d(batchData.labels, 'int32');
    optimizer.minimize(() => mlp.loss(x, y), false, Object.values(mlp.variables));
    tf.dispose([x, y]);
    if (step === 0) afterFirst = tf.memory().numTensors;
    results.push(mlp.read());
  }
  const tensorGrowth = tf.memory().numTensors - afterFirst;
  mlp.dispose();
  optimizer.dispose();
  return { shape, data, start, results, tensorGrowth };
}
