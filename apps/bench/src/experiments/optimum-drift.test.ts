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
  stdAccuracy: 0.002,
  meanTrainAccuracy: 0.99,
  fromSgd: false,
  seeds: 2,
  diverged: 0,
  unstable: false,
  nearOptimum: true,
  optimum: true,
});

describe('optimumDrift', () => {
  it('measures how far the optimal η and ρ move across widths, in grid steps', () => {
    // The grid: η ∈ {0.05, 0.1, 0.2, 0.4}, ρ ∈ {0, 0.1, 0.2, 0.4} (ρ = 0 from SGD).
    const grid = [0.05, 0.1, 0.2, 0.4].flatMap((lr) =>
      [0, 0.1, 0.2, 0.4].map((rho) => ({ ...point('mup2', 0.5, lr, rho, 0.5), optimum: false })),
    );
    const optima = [
      point('mup2', 8, 0.1, 0.1, 0.9),
      point('mup2', 0.5, 0.1, 0.2, 0.8),
      point('sp-naive', 0.5, 0.4, 0.1, 0.8),
      point('sp-naive', 8, 0.05, 0.4, 0.85),
      point('mup-global', 0.5, 0.1, 0, 0.8),
      point('mup-global', 8, 0.1, 0.1, 0.8),
      { ...point('mup2', 2, 1, 1, 1), rule: 'sgd' },
    ];
    const drifts = optimumDrift([...grid, ...optima], optima, 'sam');
    const mup2 = drifts.find((drift) => drift.preset === 'mup2');
    expect(mup2).toMatchObject({ lrDriftSteps: 0, rhoDriftSteps: 1, rhoInterior: true });
    expect(mup2?.optima.map((optimum) => [optimum.widthMult, optimum.trainAccuracy])).toEqual([
      [0.5, 0.99],
      [8, 0.99],
    ]);
    // η 0.4 → 0.05 is three steps; ρ 0.1 → 0.4 two, and 0.4 is the largest radius.
    expect(drifts.find((drift) => drift.preset === 'sp-naive')).toMatchObject({
      lrDriftSteps: 3,
      rhoDriftSteps: 2,
      rhoInterior: false,
    });
    // ρ* = 0 (no perturbation wins) is on the edge of the grid.
    expect(drifts.find((drift) => drift.preset === 'mup-global')).toMatchObject({
      rhoDriftSteps: 1,
      rhoInterior: false,
    });
  });
});
