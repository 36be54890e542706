import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createModel } from './create-model.js';

const tiny = {
  mlp: { widthMult: 0.25, imageShape: [8, 8, 1] as const },
  resnet18: { widthMult: 0.0625, imageShape: [8, 8, 3] as const },
  vit: { widthMult: 0.25, imageShape: [8, 8, 3] as const },
};

describe('seeded initialisation', () => {
  for (const [model, size] of Object.entries(tiny)) {
    it(`${model}: the same seed gives the same weights, including seed 0 (TF.js treats a seed of 0 as none)`, () => {
      const weights = (seed: number) => {
        const built = createModel({ model, parameterization: 'sp', classes: 3, seed, ...size });
        const values = built.trainableVariables.map((variable) => Array.from(variable.dataSync()));
        built.dispose();
        return values;
      };
      const before = tf.memory().numTensors;
      expect(weights(0)).toEqual(weights(0));
      expect(weights(0)).not.toEqual(weights(1));
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
