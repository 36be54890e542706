import { describe, expect, it } from 'vitest';
import type { SweepRow } from '../sweep/results-log.js';
import { regimeScore } from './regime-score.js';

const row = (rule: string, lr: number, rho: number, seed: number, accuracy: number): SweepRow =>
  ({
    cellId: `${rule}-${lr}-${rho}-${seed}`,
    config: {
      model: 'mlp',
      dataset: 'fashion-mnist',
      widthMult: 1,
      rule,
      preset: 'mup2',
      lr,
      rho,
      epochs: 40,
      batch: 128,
      seed,
    },
    seed,
    finalTestAccuracy: accuracy,
    status: 'ok',
  }) as SweepRow;

describe('regimeScore', () => {
  it('divides the best SAM cell’s gain over the best SGD cell by the pooled seed spread of the two', () => {
    const rows = [
      // SGD: best at η 0.05, mean 0.70, accuracies 0.69 / 0.71 (sample std 0.01414).
      row('sgd', 0.05, 0, 0, 0.69),
      row('sgd', 0.05, 0, 1, 0.71),
      row('sgd', 0.1, 0, 0, 0.6),
      row('sgd', 0.1, 0, 1, 0.6),
      // SAM: best at (0.05, 0.2), mean 0.75, accuracies 0.74 / 0.76; a worse cell at ρ 0.1.
      row('sam', 0.05, 0.2, 0, 0.74),
      row('sam', 0.05, 0.2, 1, 0.76),
      row('sam', 0.05, 0.1, 0, 0.72),
      row('sam', 0.05, 0.1, 1, 0.72),
    ];
    const result = regimeScore(rows);
    expect(result?.bestSam).toMatchObject({ lr: 0.05, rho: 0.2 });
    expect(result?.bestSgd).toMatchObject({ lr: 0.05, rho: 0 });
    expect(result?.gain).toBeCloseTo(0.05, 12);
    expect(result?.pooledStd).toBeCloseTo(Math.SQRT2 * 0.01, 12);
    expect(result?.score).toBeCloseTo(0.05 / (Math.SQRT2 * 0.01), 9);
  });

  it('waits for both SAM and SGD cells', () => {
    expect(regimeScore([row('sgd', 0.05, 0, 0, 0.7)])).toBeUndefined();
  });
});
