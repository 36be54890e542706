import { muSgd, type PerturbationScaling, SamOptimizer } from '@mup2/core';
import { createMlp, type ImageDataset } from '@mup2/model-zoo';
import * as tf from '@tensorflow/tfjs';
import { takeBatch } from '../coord/mnist-batches.js';
import { createRule } from '../rules.js';
import { timeInterleaved } from './interleaved-timer.js';

export interface StepRatios {
  readonly backend: string;
  readonly width: number;
  readonly batch: number;
  readonly milliseconds: { sgd: number; samNaive: number; samMup2: number };
  /** SAM (µP², the default) step time over the SGD step time on the same model. */
  readonly samOverSgd: number;
  /** µP² SAM over naive SAM: the cost of the layerwise scaling. */
  readonly mup2OverNaive: number;
  /** Tensors left behind per step, over all timed steps (should be 0). */
  readonly tensorGrowthPerStep: number;
}

/**
 * Step times of the µP MLP (784→width→width→10) under SGD, naive SAM and µP²
 * SAM, measured in one run on the current backend.
 */
export function measureStepRatios(
  dataset: ImageDataset,
  options: { width: number; batch: number; rounds: number; warmup: number; rule: string },
): StepRatios {
  const inputSize = dataset.imageShape.reduce((product, size) => product * size, 1);
  const { x, y } = takeBatch(dataset, 0, options.batch);
  const models = [0, 1, 2].map(() => createMlp({ inputSize, width: options.width, classes: dataset.classes, seed: 1 }));
  const [sgdModel, naiveModel, mup2Model] = models as [(typeof models)[0], (typeof models)[0], (typeof models)[0]];
  const sgd = muSgd(0.01, sgdModel.specs);
  const samWith = (scaling: PerturbationScaling, model: typeof sgdModel) =>
    new SamOptimizer({
      base: muSgd(0.01, model.specs),
      rule: createRule(options.rule, { rho: 0.05, scaling }),
      params: model.specs,
    });
  const naive = samWith('naive', naiveModel);
  const mup2 = samWith('mup2', mup2Model);
  const step = (optimizer: tf.Optimizer, model: typeof sgdModel) => () => {
    const cost = optimizer.minimize(() => model.loss(x, y), true, model.trainableVariables);
    cost?.dataSync();
    cost?.dispose();
  };
  const before = tf.memory().numTensors;
  const milliseconds = timeInterleaved(
    { sgd: step(sgd, sgdModel), samNaive: step(naive, naiveModel), samMup2: step(mup2, mup2Model) },
    options,
  ) as StepRatios['milliseconds'];
  const growth = (tf.memory().numTensors - before) / ((options.rounds + options.warmup) * 3);
  for (const optimizer of [sgd, naive, mup2]) optimizer.dispose();
  for (const model of models) model.dispose();
  tf.dispose([x, y]);
  return {
    backend: tf.getBackend(),
    width: options.width,
    batch: options.batch,
    milliseconds,
    samOverSgd: milliseconds.samMup2 / milliseconds.sgd,
    mup2OverNaive: milliseconds.samMup2 / milliseconds.samNaive,
    tensorGrowthPerStep: growth,
  };
}
