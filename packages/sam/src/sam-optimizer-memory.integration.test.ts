import { muAdam, muSgd, SamOptimizer } from '@mup2/core';
import { createTinyMlp, float64Batch, float64Init } from '@mup2/core/testing';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { sam } from './sam.js';

const shape = { inputSize: 6, width: 16, classes: 3 };
const BASE_WIDTH = 4;
const BATCH = 8;

function makeBatch(seed: number) {
  const { x, labels } = float64Batch(seed, { batch: BATCH, inputSize: shape.inputSize, classes: shape.classes });
  return { x: tf.tensor2d(Float32Array.from(x), [BATCH, shape.inputSize]), y: tf.tensor1d(labels, 'int32') };
}

const bases = {
  'muSgd with momentum': (specs: Parameters<typeof muSgd>[1]) => muSgd(0.1, specs, { momentum: 0.9 }),
  muAdam: (specs: Parameters<typeof muAdam>[1]) => muAdam(0.01, specs),
  'tf.train.adam': () => tf.train.adam(0.01),
};

describe('SamOptimizer memory over 100 steps of a custom loop', () => {
  for (const [name, makeBase] of Object.entries(bases)) {
    it(`holds tf.memory().numTensors constant with base ${name}`, () => {
      const before = tf.memory().numTensors;
      const mlp = createTinyMlp(float64Init(shape, 3, { baseWidth: BASE_WIDTH }), shape, BASE_WIDTH);
      const { x, y } = makeBatch(4);
      const optimizer = new SamOptimizer({ base: makeBase(mlp.specs), rule: sam({ rho: 0.05 }), params: mlp.specs });
      const varList = Object.values(mlp.variables);
      const step = () => {
        const cost = optimizer.minimize(() => mlp.loss(x, y), true, varList);
        cost!.dispose();
      };
      step(); // the base optimizer creates its slots on the first step
      const afterFirst = tf.memory().numTensors;
      for (let i = 1; i < 100; i++) step();
      expect(tf.memory().numTensors).toBe(afterFirst);
      expect(optimizer.iterations).toBe(100);
      optimizer.dispose();
      mlp.dispose();
      tf.dispose([x, y]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
