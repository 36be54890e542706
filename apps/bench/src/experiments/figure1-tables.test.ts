import { describe, expect, it } from 'vitest';
import type { Figure1Optima } from './figure1-optima.js';
import { driftText, optimaTable, transferVerdict } from './figure1-tables.js';
import type { PanelOptimum, SeriesStatistics } from './optimum-statistics.js';

const optimum = (widthMult: number, lr: number, rho: number | null): PanelOptimum => ({
  widthMult,
  log2Lr: Math.log2(lr),
  log2Rho: rho === null ? null : Math.log2(rho),
  lrEdge: false,
  rhoEdge: rho === 0.4,
  smoothedAccuracy: 0.8,
  log2LrInterval: { low: Math.log2(lr) - 1, high: Math.log2(lr) + 1 },
  log2RhoInterval: rho === null ? null : { low: Math.log2(rho) - 0.5, high: Math.log2(rho) + 0.5 },
  seeds: 3,
});

const series: SeriesStatistics[] = [
  {
    name: 'SGD SP',
    optima: [optimum(1, 0.05, null), optimum(2, 0.05, null)],
    lrDrift: { perDoubling: 0, interval: { low: -0.1, high: 0.1 } },
    rhoDrift: null,
  },
  {
    name: 'sp-naive',
    optima: [optimum(1, 0.05, 0.1), optimum(2, 0.025, 0.4)],
    lrDrift: { perDoubling: -1, interval: { low: -1.5, high: -0.5 } },
    rhoDrift: { perDoubling: 2, interval: { low: 1.2, high: 2.8 } },
  },
  {
    name: 'mup2',
    optima: [optimum(1, 0.05, 0.1), optimum(2, 0.05, 0.1)],
    lrDrift: { perDoubling: 0, interval: { low: -0.3, high: 0.3 } },
    rhoDrift: { perDoubling: 0.04, interval: { low: -0.21, high: 0.3 } },
  },
];

describe('Figure 1 tables', () => {
  it('prints each optimum as a grid value with its 90% interval and the drift per doubling', () => {
    const table = optimaTable(series, 'rho').split('\n');
    expect(table[0]).toBe('| | ×1 | ×2 | log2 ρ* per doubling |');
    // SGD has no radius: left out of the ρ* table.
    expect(table).toHaveLength(4);
    expect(table[2]).toBe('| sp-naive | 0.1 [0.071, 0.14] | 0.4 [0.28, 0.57] (edge) | +2.00 [+1.20, +2.80] |');
    expect(optimaTable(series, 'lr').split('\n')[2]).toBe(
      '| SGD SP | 0.05 [0.025, 0.1] | 0.05 [0.025, 0.1] | +0.00 [−0.10, +0.10] |',
    );
    expect(driftText(null)).toBe('–');
  });

  it('says whether each drift interval contains 0 and whether µP²’s drift differs from another preset’s', () => {
    const optima: Figure1Optima = {
      series,
      seeds: [0, 1, 2],
      differences: [
        {
          preset: 'sp-naive',
          lr: { perDoubling: 1, interval: { low: 0.4, high: 1.6 } },
          rho: { perDoubling: -1.96, interval: { low: -2.7, high: -1.2 } },
        },
      ],
    };
    expect(transferVerdict(optima)).toEqual([
      '- sp-naive: log2 ρ* moves +2.00 [+1.20, +2.80] per doubling of width; its 90% interval excludes 0 (ρ* drifts); log2 η* −1.00 [−1.50, −0.50].',
      '- mup2: log2 ρ* moves +0.04 [−0.21, +0.30] per doubling of width; its 90% interval contains 0 (no drift shown); log2 η* +0.00 [−0.30, +0.30].',
      '- mup2 − sp-naive, drift of log2 ρ*: −1.96 [−2.70, −1.20]: the interval excludes 0: their drifts differ (mup2 +0.04 [−0.21, +0.30], sp-naive +2.00 [+1.20, +2.80]).',
    ]);
  });
});
