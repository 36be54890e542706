import { describe, expect, it } from 'vitest';
import type { GridPoint } from '../plot/sweep-aggregate.js';
import { optimumDrift } from './optimum-drift.js';

const point = (preset: string, widthMult: number, lr: number, rho: number, meanAccuracy: number): GridPoint => ({
  experiment: 'mlp on mnist, 1 epoch',
  rule: 'sam',
  preset,
  widthMult,
  lr,
  rho,
  meanAccuracy,
  stdAccuracy: 0,
  seeds: 1,
  diverged: 0,
  unstable: false,
  nearOptimum: true,
  optimum: true,
});

describe('optimumDrift', () => {
  it('measures how far the optimal η and ρ move across widths, in octaves', () => {
    const drifts = optimumDrift(
      [
        point('mup2', 8, 0.1, 0.1, 0.9),
        point('mup2', 0.5, 0.1, 0.1, 0.8),
        point('sp-naive', 0.5, 0.4, 0.1, 0.8),
        point('sp-naive', 8, 0.05, 0.4, 0.85),
        { ...point('mup2', 2, 1, 1, 1), rule: 'sgd' },
      ],
      'sam',
    );
    const mup2 = drifts.find((drift) => drift.preset === 'mup2');
    expect(mup2?.lrDriftOctaves).toBe(0);
    expect(mup2?.optima.map((optimum) => optimum.widthMult)).toEqual([0.5, 8]);
    const sp = drifts.find((drift) => drift.preset === 'sp-naive');
    expect(sp?.lrDriftOctaves).toBeCloseTo(3, 12); // 0.4 → 0.05
    expect(sp?.rhoDriftOctaves).toBeCloseTo(2, 12); // 0.1 → 0.4
  });
});
