import { InvalidOptionError } from '@mup2/core';
import { describe, expect, it } from 'vitest';
import { loadRules } from '../rules/load-rules.js';
import { defaultLearningRate, defaultOptimizerFor, resolveTrainConfig, type TrainConfig } from './train-config.js';
import { trainRun } from './train-run.js';

const valid: TrainConfig = {
  model: 'mlp',
  widthMult: 1,
  rule: 'sam',
  preset: 'mup2',
  lr: 0.1,
  rho: 0.05,
  epochs: 1,
  batch: 32,
  seed: 0,
  dataset: 'mnist',
};

const rules = await loadRules();

/** The message resolveTrainConfig throws for `valid` with `change` applied. */
function messageFor(change: Record<string, unknown>): string {
  try {
    resolveTrainConfig({ ...valid, ...change } as TrainConfig, rules);
  } catch (error) {
    expect(InvalidOptionError.isInstance(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(change)} to be rejected`);
}

describe('resolveTrainConfig', () => {
  it('fills in the defaults: SGD with momentum 0.9 for the MLP, no weight decay, augmentation for cifar10 only', () => {
    expect(resolveTrainConfig(valid)).toEqual({
      ...valid,
      ruleOptions: {},
      mSharpness: null,
      perturbationInterval: 1,
      baseWidthMult: null,
      dataDir: null,
      limit: null,
      testLimit: null,
      labelNoise: 0,
      lrSchedule: 'constant',
      evalEvery: 1,
      optimizer: 'sgd',
      momentum: 0.9,
      weightDecay: 0,
      augment: false,
    });
    expect(resolveTrainConfig({ ...valid, dataset: 'cifar10' }).augment).toBe(true);
    expect(resolveTrainConfig({ ...valid, optimizer: 'adam' }).momentum).toBe(0);
  });

  it('defaults to Adam for the ViT and picks a learning rate per optimizer', () => {
    expect(defaultOptimizerFor('vit')).toBe('adam');
    expect(defaultOptimizerFor('resnet18')).toBe('sgd');
    expect(defaultOptimizerFor('mlp')).toBe('sgd');
    expect([defaultLearningRate('sgd'), defaultLearningRate('adam')]).toEqual([0.1, 0.001]);
  });

  it('names an unknown model, rule, preset, dataset or optimizer and lists the known ones', () => {
    expect(messageFor({ model: 'resnet50' })).toMatch(/^trainRun: unknown model 'resnet50'; expected one of 'mlp'/);
    expect(messageFor({ rule: 'adam' })).toBe(
      "trainRun: unknown rule 'adam'; expected one of 'sgd', 'asam', 'friendly-sam', 'gsam', 'looksam', 'sam', 'sam-on' " +
        '(the installed rule packages); ' +
        'a rule that is not installed loads with ruleModules (--rule-module).',
    );
    expect(messageFor({ preset: 'mup3' })).toBe(
      "trainRun: unknown preset 'mup3'; expected one of 'sp-naive', 'sp-lp', 'mup-naive', 'mup-global', 'mup2'.",
    );
    expect(messageFor({ dataset: 'imagenet' })).toBe(
      "trainRun: unknown dataset 'imagenet'; expected one of 'mnist', 'fashion-mnist', 'cifar10'.",
    );
    expect(messageFor({ optimizer: 'rmsprop' })).toBe(
      "trainRun: unknown optimizer 'rmsprop'; expected one of 'sgd', 'adam'.",
    );
  });

  it('names a bad number and the value it got', () => {
    expect(messageFor({ lr: 0 })).toBe('trainRun: lr must be a positive finite number, got 0.');
    expect(messageFor({ lr: -0.1 })).toBe('trainRun: lr must be a positive finite number, got -0.1.');
    expect(messageFor({ lr: Number.NaN })).toBe('trainRun: lr must be a positive finite number, got NaN.');
    expect(messageFor({ rho: -0.05 })).toBe('trainRun: rho must be a finite number >= 0, got -0.05.');
    expect(messageFor({ widthMult: 0 })).toBe('trainRun: widthMult must be a positive finite number, got 0.');
    expect(messageFor({ baseWidthMult: Number.POSITIVE_INFINITY })).toBe(
      'trainRun: baseWidthMult must be a positive finite number, got Infinity.',
    );
    expect(messageFor({ epochs: 0 })).toBe('trainRun: epochs must be a positive integer, got 0.');
    expect(messageFor({ batch: 12.5 })).toBe('trainRun: batch must be a positive integer, got 12.5.');
    expect(messageFor({ batch: '32' })).toBe("trainRun: batch must be a positive integer, got '32'.");
    expect(messageFor({ seed: -1 })).toBe('trainRun: seed must be an integer >= 0, got -1.');
    expect(messageFor({ limit: 0 })).toBe('trainRun: limit must be a positive integer, got 0.');
    expect(messageFor({ momentum: 1 })).toBe('trainRun: momentum must be a number in [0, 1), got 1.');
    expect(messageFor({ weightDecay: -1 })).toBe('trainRun: weightDecay must be a finite number >= 0, got -1.');
    expect(messageFor({ labelNoise: 1 })).toBe(
      'trainRun: labelNoise must be a fraction in [0, 1) of training labels to corrupt, got 1.',
    );
    expect(resolveTrainConfig({ ...valid, labelNoise: 0.4 }).labelNoise).toBe(0.4);
  });

  it('checks m-sharpness, the perturbation interval and rule options, and keeps options sorted', () => {
    expect(messageFor({ mSharpness: 0 })).toBe('trainRun: mSharpness must be a positive integer, got 0.');
    expect(messageFor({ perturbationInterval: 1.5 })).toBe(
      'trainRun: perturbationInterval must be a positive integer, got 1.5.',
    );
    expect(messageFor({ mSharpness: 16, perturbationInterval: 2 })).toMatch(
      /^trainRun: mSharpness 16 and perturbationInterval 2 cannot be combined/,
    );
    expect(messageFor({ rule: 'sgd', rho: 0, mSharpness: 16 })).toBe(
      "trainRun: mSharpness applies to a perturbation rule, not to rule 'sgd'.",
    );
    expect(messageFor({ ruleOptions: { eta: 0.1 } })).toBe(
      "trainRun: rule 'sam' has no option 'eta'; it has no options of its own.",
    );
    expect(messageFor({ rule: 'asam', ruleOptions: { eta: 'big' } })).toBe(
      "trainRun: ruleOptions.eta must be a finite number, got 'big'.",
    );
    const asam = resolveTrainConfig(
      { ...valid, rule: 'asam', ruleOptions: { eta: 0.1 }, perturbationInterval: 5 },
      rules,
    );
    expect([asam.ruleOptions, asam.perturbationInterval, asam.mSharpness]).toEqual([{ eta: 0.1 }, 5, null]);
    expect(resolveTrainConfig({ ...valid, mSharpness: 16 }).mSharpness).toBe(16);
  });

  it('rejects options that do not fit together, unknown keys and a bad checkpoint', () => {
    expect(messageFor({ optimizer: 'adam', momentum: 0.9 })).toBe(
      "trainRun: momentum applies to optimizer 'sgd' only, got it with 'adam'.",
    );
    expect(messageFor({ learningRate: 0.1 })).toMatch(
      /^trainRun: unknown config key 'learningRate'; expected some of /,
    );
    expect(messageFor({ checkpoint: { dir: '' } })).toBe("trainRun: checkpoint.dir must be a non-empty path, got ''.");
    expect(messageFor({ checkpoint: { dir: '/tmp/x', resume: 'yes' } })).toBe(
      "trainRun: checkpoint.resume must be true or false, got 'yes'.",
    );
  });

  it('makes trainRun reject before loading anything', async () => {
    const error = await trainRun({ ...valid, lr: -1 }).catch((caught: unknown) => caught);
    expect(InvalidOptionError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe('trainRun: lr must be a positive finite number, got -1.');
  });
});
