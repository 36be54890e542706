import { muAdam, muSgd, type PerturbationScaling, SamOptimizer } from '@mup2/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { loadRules } from '../rules/load-rules.js';
import { createModel } from './create-model.js';
import type { ZooModel } from './zoo-model.js';

// SAM as the zoo finds it: the installed @mup2/sam package, through its descriptor.
const rules = await loadRules();
const sam = ({ rho, scaling = 'mup2' }: { rho: number; scaling?: PerturbationScaling }) =>
  rules.create('sam', { rho, scaling });

const imageShape = [8, 8, 3] as const;
const batch = 8;

function fixedBatch(seed: number) {
  return {
    x: tf.randomNormal([batch, ...imageShape], 0, 1, 'float32', seed),
    labels: tf.tensor1d(
      Array.from({ length: batch }, (_, i) => i % 4),
      'int32',
    ),
  };
}

interface Case {
  readonly model: 'mlp' | 'resnet18' | 'vit';
  readonly widthMult: number;
  readonly base: (model: ZooModel) => tf.Optimizer;
  /** A zero-initialised readout predicts the uniform distribution at first: loss ln 10. */
  readonly zeroReadout: boolean;
}

const cases: Case[] = [
  { model: 'mlp', widthMult: 1, base: (model) => muSgd(0.2, model.specs), zeroReadout: false },
  { model: 'resnet18', widthMult: 0.0625, base: (model) => muSgd(0.1, model.specs), zeroReadout: true },
  { model: 'vit', widthMult: 0.5, base: (model) => muAdam(0.003, model.specs), zeroReadout: true },
];

describe.each(cases)('$model trained with SAM (µP², ρ = 0.05)', ({ model: name, widthMult, base, zeroReadout }) => {
  it('lowers the loss on a fixed batch within 6 steps and leaks no tensors', () => {
    const model = createModel({ model: name, widthMult, parameterization: 'mup', imageShape, classes: 10, seed: 4 });
    const optimizer = new SamOptimizer({
      base: base(model),
      rule: sam({ rho: 0.05, scaling: 'mup2' }),
      params: model.specs,
    });
    const { x, labels } = fixedBatch(5);
    const losses: number[] = [];
    let afterFirstStep = 0;
    for (let step = 0; step < 6; step++) {
      const loss = optimizer.minimize(
        () => model.loss(x, labels, { training: true }),
        true,
        model.trainableVariables,
      ) as tf.Scalar;
      losses.push(loss.dataSync()[0] as number);
      loss.dispose();
      // The first step creates the optimizer's state (learning-rate scalars, Adam moments).
      if (step === 0) afterFirstStep = tf.memory().numTensors;
    }
    expect(tf.memory().numTensors).toBe(afterFirstStep);
    if (zeroReadout) expect(losses[0]).toBeCloseTo(Math.log(10), 4);
    expect(losses.at(-1) as number).toBeLessThan(0.85 * (losses[0] as number));
    optimizer.dispose();
    model.dispose();
    tf.dispose([x, labels]);
  });
});

describe('ResNet BatchNorm statistics under SAM', () => {
  it('are those of the first pass only: the same after a SAM step as after a plain step', () => {
    const statistics = (useSam: boolean) => {
      const model = createModel({
        model: 'resnet18',
        widthMult: 0.0625,
        parameterization: 'sp',
        imageShape,
        classes: 10,
        seed: 6,
      });
      const base = muSgd(0.1, model.specs);
      const optimizer = useSam ? new SamOptimizer({ base, rule: sam({ rho: 0.5 }), params: model.specs }) : base;
      const { x, labels } = fixedBatch(7);
      optimizer.minimize(() => model.loss(x, labels, { training: true }), false, model.trainableVariables);
      const values = model.allVariables
        .filter((variable) => !variable.trainable)
        .map((variable) => Array.from(variable.dataSync()));
      const weights = Array.from((model.trainableVariables[0] as tf.Variable).dataSync());
      optimizer.dispose();
      model.dispose();
      tf.dispose([x, labels]);
      return { values, weights };
    };
    const plain = statistics(false);
    const withSam = statistics(true);
    expect(withSam.values).toEqual(plain.values);
    // The descent itself differs (gradient at w + ε), so the check is not vacuous.
    expect(withSam.weights).not.toEqual(plain.weights);
  });
});

describe('ResNet BatchNorm statistics under m-sharpness', () => {
  it('are the chunk-size-weighted mean of what a forward pass at w on each chunk leaves (perturbed passes leave nothing)', () => {
    const resnet = () =>
      createModel({ model: 'resnet18', widthMult: 0.0625, parameterization: 'sp', imageShape, classes: 10, seed: 6 });
    const movingStatistics = (model: ZooModel) =>
      model.allVariables.filter((variable) => !variable.trainable).map((variable) => Array.from(variable.dataSync()));
    const { x, labels } = fixedBatch(7);
    const chunks = [
      [0, 3],
      [3, 3],
      [6, 2],
    ] as const;
    // Independently: a fresh model's own training-mode forward pass on each chunk alone.
    const perChunk = chunks.map(([start, count]) => {
      const model = resnet();
      tf.tidy(() => {
        model.apply(tf.slice(x, start, count), { training: true });
      });
      const values = movingStatistics(model);
      model.dispose();
      return { weight: count / batch, values };
    });
    const model = resnet();
    const before = movingStatistics(model);
    const optimizer = new SamOptimizer({
      base: muSgd(0.1, model.specs),
      rule: sam({ rho: 0.5 }),
      params: model.specs,
      mSharpness: 3,
    });
    optimizer.minimizeOnBatch(
      ([chunkX, chunkY]) => model.loss(chunkX as tf.Tensor, chunkY as tf.Tensor1D, { training: true }),
      [x, labels],
      false,
      model.trainableVariables,
    );
    const after = movingStatistics(model);
    expect(after).not.toEqual(before);
    after.forEach((values, index) => {
      values.forEach((value, i) => {
        const expected = perChunk.reduce((sum, chunk) => sum + chunk.weight * (chunk.values[index]?.[i] as number), 0);
        expect(value).toBeCloseTo(expected, 5);
      });
    });
    optimizer.dispose();
    model.dispose();
    tf.dispose([x, labels]);
  });
});
