import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { paramSpecs } from './param-spec.js';
import { samLayerScale } from './sam-layer-scale.js';

describe('samLayerScale', () => {
  it('is 1 naive, r^-1/2 global, and the µP SGD multiplier (input r, hidden 1, output 1/r, vector r) under mup2', () => {
    const r = 4;
    const variables = [
      tf.variable(tf.zeros([8, 4 * 16]), true, 'scale-input'),
      tf.variable(tf.zeros([4 * 16, 4 * 16]), true, 'scale-hidden'),
      tf.variable(tf.zeros([4 * 16, 10]), true, 'scale-output'),
      tf.variable(tf.zeros([4 * 16]), true, 'scale-vector'),
    ];
    const specs = paramSpecs(
      variables.map((variable, index) => ({
        variable,
        role: (['input', 'hidden', 'output', 'vector'] as const)[index]!,
        fanInMult: [1, r, r, 1][index]!,
        fanOutMult: [r, r, 1, r][index]!,
      })),
    );
    const expected = [r, 1, 1 / r, r];
    specs.forEach((spec, index) => {
      expect(samLayerScale('naive')(spec, r)).toEqual({ perturbation: 1, norm: 1 });
      expect(samLayerScale('global')(spec, r)).toEqual({ perturbation: 0.5, norm: 1 });
      expect(samLayerScale('mup2')(spec, r)).toEqual({ perturbation: expected[index], norm: expected[index] });
    });
    tf.dispose(variables);
  });
});
