import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { deriveScaling } from './derive-scaling.js';
import { samRule } from './test-fixtures/sam-rule.js';
import { gaussianBatches, tinyMlpCoordModel } from './tiny-mlp-model.js';

// The shipped rules' recoveries are tested in their own packages (src/<rule>.scaling.test.ts), as a
// new rule's is: these are the derivation's own checks.
describe('deriveScaling', () => {
  it("recovers SAM's a = b = m_p on the tiny µP MLP (input r, hidden 1, output 1/r, vector r), leaving no tensor", async () => {
    const before = tf.memory().numTensors;
    const derived = await deriveScaling((scaling) => samRule(0.1, scaling), tinyMlpCoordModel(), [64, 128, 256, 512], {
      // Four widths up to 512, cheaper than the rule packages' five up to 1024: four seeds settle the readout.
      data: gaussianBatches(),
      seeds: 4,
    });
    expect(tf.memory().numTensors).toBe(before);
    // By hand (docs/adding-a-rule.md, section 5): SAM's ‖g_p‖² goes like 1/m_p in µP.
    const expected = { input: 1, hidden: 0, output: -1, vector: 1 };
    for (const entry of derived.exponents) {
      expect(Math.abs(entry.measured.norm - expected[entry.role]), `${entry.role} b`).toBeLessThanOrEqual(0.15);
      expect(Math.abs(entry.measured.perturbation - expected[entry.role]), `${entry.role} a`).toBeLessThanOrEqual(0.15);
      expect(derived.layerScale({ role: entry.role }, 4)).toEqual({
        perturbation: 4 ** expected[entry.role],
        norm: 4 ** expected[entry.role],
      });
    }
    expect(derived.settled, derived.summary).toBe(true);
    expect(derived.verified, derived.summary).toBe(true);
    expect(derived.comparison.largestDifference).toBeLessThanOrEqual(0.15);
  }, 240_000);

  it('names a bad argument', async () => {
    const rule = (scaling: 'naive' | 'global' | 'mup2') => samRule(0.1, scaling);
    const data = gaussianBatches();
    await expect(deriveScaling(rule, tinyMlpCoordModel(), [64], { data })).rejects.toThrowError(
      /widths must be at least two positive numbers, got \[64\]/,
    );
    await expect(deriveScaling(rule, tinyMlpCoordModel(), [64, 128], { data, step: 0 })).rejects.toThrowError(
      /step must be a positive number, got 0/,
    );
  });
});
