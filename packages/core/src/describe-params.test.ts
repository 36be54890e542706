import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { describeParams } from './describe-params.js';
import { InvalidOptionError, ShapeMismatchError } from './errors.js';

const INPUTS = 8;
const CLASSES = 3;

/** dense(width) → BN → dense(width) → LN → dense(CLASSES): input, hidden and output weights, two norms. */
function normedMlp(width: number): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ units: width, inputShape: [INPUTS], activation: 'relu' }),
      tf.layers.batchNormalization(),
      tf.layers.dense({ units: width, activation: 'relu' }),
      tf.layers.layerNormalization(),
      tf.layers.dense({ units: CLASSES }),
    ],
  });
}

function withModels<T>(
  build: () => [tf.LayersModel, tf.LayersModel],
  use: (model: tf.LayersModel, base: tf.LayersModel) => T,
): T {
  const [model, base] = build();
  try {
    return use(model, base);
  } finally {
    model.dispose();
    base.dispose();
  }
}

describe('describeParams on tfjs-layers models', () => {
  it('finds roles, multipliers and norm flags by comparing width 16 with base width 4 (docs/mup2-explained.md)', () => {
    withModels(
      () => [normedMlp(16), normedMlp(4)],
      (model, base) => {
        const specs = describeParams(model, base);
        const weights = model.trainableWeights;
        expect(specs.map((spec) => spec.variable)).toEqual(weights.map((weight) => weight.read()));
        // r = 16 / 4 = 4; read off the layer list by hand.
        expect(specs.map(({ role, fanInMult, fanOutMult, norm }) => [role, fanInMult, fanOutMult, norm])).toEqual([
          ['input', 1, 4, false], // dense 1 kernel [8, 16]
          ['vector', 1, 4, false], // dense 1 bias [16]
          ['vector', 1, 4, true], // BN gamma
          ['vector', 1, 4, true], // BN beta
          ['hidden', 4, 4, false], // dense 2 kernel [16, 16]
          ['vector', 1, 4, false], // dense 2 bias
          ['vector', 1, 4, true], // LN gamma
          ['vector', 1, 4, true], // LN beta
          ['output', 4, 1, false], // readout kernel [16, 3]
          ['vector', 1, 1, false], // readout bias [3]: does not grow
        ]);
      },
    );
  });

  it('leaves out the BatchNorm moving statistics (they are not trainable)', () => {
    withModels(
      () => [normedMlp(16), normedMlp(4)],
      (model, base) => {
        const names = describeParams(model, base).map((spec) => spec.variable.name);
        expect(names.some((name) => /moving/.test(name))).toBe(false);
        expect(model.weights.some((weight) => /moving_mean/.test(weight.name))).toBe(true);
      },
    );
  });

  it('rejects a base model with another number of weights, giving both counts', () => {
    withModels(
      () => [
        normedMlp(16),
        tf.sequential({
          layers: [tf.layers.dense({ units: 4, inputShape: [INPUTS] }), tf.layers.dense({ units: CLASSES })],
        }),
      ],
      (model, base) => {
        expect(() => describeParams(model, base)).toThrowError(ShapeMismatchError);
        expect(() => describeParams(model, base)).toThrowError(/10 trainable weights.*base model has 4/);
      },
    );
  });

  it('rejects a base model whose weights have other ranks, naming the weight and both shapes', () => {
    const plain = (width: number) =>
      tf.sequential({
        layers: [tf.layers.dense({ units: width, inputShape: [INPUTS] }), tf.layers.dense({ units: CLASSES })],
      });
    const normed = (width: number) =>
      tf.sequential({
        layers: [
          tf.layers.dense({ units: width, inputShape: [INPUTS], useBias: false }),
          tf.layers.layerNormalization(),
          tf.layers.dense({ units: CLASSES, useBias: false }),
        ],
      });
    withModels(
      () => [plain(16), normed(4)],
      (model, base) => {
        const secondKernel = (model.trainableWeights[2]!.read() as tf.Variable).name;
        expect(() => describeParams(model, base)).toThrowError(ShapeMismatchError);
        expect(() => describeParams(model, base)).toThrowError(secondKernel);
        expect(() => describeParams(model, base)).toThrowError(/\[16, 3\].*\[4\]/);
      },
    );
  });

  it('rejects an unbuilt layer (no weights yet) instead of returning no specs', () => {
    const [layer, base] = [tf.layers.dense({ units: 16 }), tf.layers.dense({ units: 4 })];
    expect(layer.trainableWeights).toHaveLength(0);
    expect(() => describeParams(layer, base)).toThrowError(InvalidOptionError);
    expect(() => describeParams(layer, base)).toThrowError(/no trainable weights.*inputShape/);
  });

  it('rejects the model as its own base, and a base at the same width without a delta: no dimension would grow', () => {
    withModels(
      () => [normedMlp(16), normedMlp(16)],
      (model, sameWidth) => {
        expect(() => describeParams(model, model)).toThrowError(InvalidOptionError);
        expect(() => describeParams(model, model)).toThrowError(/base model is the model itself.*readout/);
        expect(() => describeParams(model, sameWidth)).toThrowError(/no\s+dimension grows.*delta model/);
        expect(() => describeParams(model, sameWidth, sameWidth)).toThrowError(/delta model is the base model itself/);
        // At its own base width with a delta at width 32, the roles are found and every multiplier is 1.
        const delta = normedMlp(32);
        const specs = describeParams(model, sameWidth, delta);
        delta.dispose();
        expect(
          specs
            .filter((spec) => spec.role !== 'vector')
            .map(({ role, fanInMult, fanOutMult }) => [role, fanInMult, fanOutMult]),
        ).toEqual([
          ['input', 1, 1],
          ['hidden', 1, 1],
          ['output', 1, 1],
        ]);
      },
    );
  });
});
