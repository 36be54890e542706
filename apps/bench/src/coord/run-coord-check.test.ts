import type { ImageDataset, RuleRegistry } from '@mup2/model-zoo';
import { loadRules } from '@mup2/model-zoo';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CoordModelName, runCoordCheck } from './run-coord-check.js';

/** Test fixture: 64 random 8×8 RGB images in 4 classes. */
function randomImages(): ImageDataset {
  const count = 64;
  const split = {
    images: Float32Array.from({ length: count * 8 * 8 * 3 }, (_, index) => ((index * 7919) % 255) / 255),
    labels: Int32Array.from({ length: count }, (_, index) => index % 4),
    count,
  };
  return {
    name: 'cifar10',
    train: split,
    test: split,
    imageShape: [8, 8, 3],
    classes: 4,
    normalization: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
  };
}

describe('bench coord on the zoo models', () => {
  let rules: RuleRegistry;
  beforeAll(async () => {
    rules = await loadRules();
  });

  const cases: Array<[CoordModelName, number[], string[]]> = [
    ['mlp', [16, 32], ['dense0/kernel', 'gain', 'dense1/kernel', 'readout/kernel']],
    // Every conv measured as a convolution of its image input, BN gains and offsets, the readout.
    ['resnet18', [4, 8], ['stem/kernel', 'stem/bn/gamma', 'stage4/block2/conv2/kernel', 'readout/kernel']],
    // Attention: the query, key, value and output projections, and the patch and position embeddings.
    ['vit', [8, 16], ['patch/kernel', 'position', 'block1/attention/query/kernel', 'block1/attention/output/kernel']],
  ];
  for (const [model, widths, layers] of cases) {
    it(`measures every layer of ${model} at widths ${widths.join(', ')} and fits a slope per layer`, async () => {
      const before = tf.memory().numTensors;
      const result = await runCoordCheck(
        {
          model,
          rule: 'sam',
          presets: ['mup2'],
          widths,
          baseWidth: widths[0] as number,
          steps: 1,
          learningRate: 0.1,
          rho: 0.1,
          seeds: 1,
          batch: 4,
        },
        rules,
        randomImages(),
      );
      expect(tf.memory().numTensors).toBe(before);
      const measured = result.slopes.filter((slope) => slope.quantity === 'perturbation').map((slope) => slope.layer);
      for (const layer of layers) expect(measured, layer).toContain(layer);
      for (const slope of result.slopes)
        expect(Number.isFinite(slope.slope), `${slope.layer} ${slope.quantity}`).toBe(true);
      if (model !== 'mlp') {
        expect(result.groups.map((group) => group.group)).toEqual(
          expect.arrayContaining(['input W', 'hidden W', 'output W', 'norm gain', 'norm offset', 'bias']),
        );
      }
    }, 120_000);
  }
});
