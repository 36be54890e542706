import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { DatasetName } from '../datasets/image-dataset.js';
import { createModel, type ModelName } from '../models/create-model.js';
import { ACTIVATION_OVERHEAD, DATASET_GEOMETRY, estimateTrainingMemory } from './memory-estimate.js';
import { checkTrainingMemory, formatBytes, ModelTooLargeError, parseMemoryLimit } from './memory-limit.js';

const run = (model: ModelName, widthMult: number, dataset: DatasetName = 'mnist') => ({
  model,
  widthMult,
  dataset,
  batch: 128,
  optimizer: 'sgd' as const,
  momentum: 0.9,
  rule: 'sam',
});

describe('estimateTrainingMemory', () => {
  it.each([
    ['mlp', 0.25, 'mnist'],
    ['mlp', 3, 'cifar10'],
    ['resnet18', 0.125, 'mnist'],
    ['resnet18', 0.5, 'cifar10'],
    ['vit', 0.5, 'cifar10'],
    ['vit', 1.3, 'fashion-mnist'],
  ] as const)('counts the parameters %s ×%s on %s has when built', (model, widthMult, dataset) => {
    const { imageShape, classes } = DATASET_GEOMETRY[dataset];
    const built = createModel({ model, widthMult, parameterization: 'mup', imageShape, classes, seed: 1 });
    const parameters = built.trainableVariables.reduce((sum, variable) => sum + variable.size, 0);
    built.dispose();
    expect(estimateTrainingMemory(run(model, widthMult, dataset)).parameters).toBe(parameters);
  });

  it('is the parameter buffers a step keeps plus the activations of a batch, in float32', () => {
    // MLP ×1 on MNIST: 784·64 + 64·64 + 64·10 + 64 (the gain) = 54,976 parameters. SAM over SGD with
    // momentum keeps 6 buffers of them (weights, gradient, momentum, ε, saved weights, second gradient);
    // per example 784 inputs + 2 layers · 4 tensors · 64 + 3 · 10 logits = 1,326 activations, times the
    // backends' measured overhead.
    const activationBytes = Math.ceil(4 * 128 * 1_326 * ACTIVATION_OVERHEAD);
    expect(estimateTrainingMemory(run('mlp', 1))).toEqual({
      parameters: 54_976,
      parameterBytes: 4 * 54_976 * 6,
      activationBytes,
      totalBytes: 4 * 54_976 * 6 + activationBytes,
    });
    // SGD without momentum keeps two; Adam four.
    expect(estimateTrainingMemory({ ...run('mlp', 1), rule: 'sgd', momentum: 0 }).parameterBytes).toBe(4 * 54_976 * 2);
    expect(estimateTrainingMemory({ ...run('mlp', 1), rule: 'sgd', optimizer: 'adam' }).parameterBytes).toBe(
      4 * 54_976 * 4,
    );
  });
});

describe('checkTrainingMemory', () => {
  it('refuses an absurd width at once, with the estimate and the limit, allocating nothing', () => {
    const tensors = tf.memory().numTensors;
    const started = performance.now();
    const error = (() => {
      try {
        checkTrainingMemory(run('mlp', 100_000), parseMemoryLimit('16G'));
      } catch (caught) {
        return caught;
      }
    })();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(ModelTooLargeError.isInstance(error)).toBe(true);
    // 6.4 million units: 784·n + n² + 10·n + n parameters.
    const width = 6_400_000;
    const parameters = 784 * width + width * width + 10 * width + width;
    expect((error as Error).message).toContain(
      `mlp at width multiplier 100000 on mnist, batch 128: ${parameters.toLocaleString('en-US')} parameters`,
    );
    expect((error as Error).message).toContain('more than the limit of 16.0 GB (the limit given)');
    expect((error as Error).message).toContain('--memory-limit');
  });

  it('lets through what fits, shares the limit among trainings at once, and checks nothing with none', () => {
    const estimate = estimateTrainingMemory(run('resnet18', 1, 'cifar10'));
    const exactly = { kind: 'bytes', bytes: estimate.totalBytes } as const;
    expect(checkTrainingMemory(run('resnet18', 1, 'cifar10'), exactly)).toEqual(estimate);
    expect(() => checkTrainingMemory(run('resnet18', 1, 'cifar10'), exactly, 1 / 2)).toThrow(
      /shared by 2 trainings at once/,
    );
    expect(checkTrainingMemory(run('mlp', 1e6), parseMemoryLimit('none')).parameters).toBeGreaterThan(1e15);
  });

  it('reads limits as sizes, shares of the available memory or none, and names a bad one', () => {
    expect(parseMemoryLimit('8G')).toEqual({ kind: 'bytes', bytes: 8 * 2 ** 30 });
    expect(parseMemoryLimit('512MiB')).toEqual({ kind: 'bytes', bytes: 512 * 2 ** 20 });
    expect(parseMemoryLimit('1.5t')).toEqual({ kind: 'bytes', bytes: 1.5 * 2 ** 40 });
    expect(parseMemoryLimit('90%')).toEqual({ kind: 'fraction', fraction: 0.9 });
    expect(parseMemoryLimit('None')).toEqual({ kind: 'none' });
    for (const bad of ['lots', '0', '150%', '-1G', '']) {
      expect(() => parseMemoryLimit(bad)).toThrow(`memory limit '${bad}': expected a size such as 8G or 512M`);
    }
    expect(formatBytes(1536 * 2 ** 20)).toBe('1.50 GB');
    expect(formatBytes(512)).toBe('512 bytes');
  });
});
