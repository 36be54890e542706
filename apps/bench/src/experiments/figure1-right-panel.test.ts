import { describe, expect, it } from 'vitest';
import { expandGrid, parseGrid } from '../sweep/grid.js';
import type { SweepRow } from '../sweep/results-log.js';
import type { Figure1Optima } from './figure1-optima.js';
import {
  rightPanelLines,
  rightPanelLrs,
  rightPanelSweeps,
  rightPanelTable,
  withPresetsAlreadyRun,
} from './figure1-right-panel.js';
import type { PanelOptimum } from './optimum-statistics.js';

const at = (widthMult: number, lr: number): PanelOptimum => ({
  widthMult,
  log2Lr: Math.log2(lr),
  log2Rho: null,
  lrEdge: false,
  rhoEdge: false,
  smoothedAccuracy: 0.8,
  log2LrInterval: { low: 0, high: 0 },
  log2RhoInterval: null,
  seeds: 3,
});
const series = (name: string, lr: number) => ({
  name,
  optima: [at(1, 0.1), at(16, lr)],
  lrDrift: null,
  rhoDrift: null,
});

describe('the right panel', () => {
  const grid = parseGrid({
    rules: 'sgd,sam',
    presets: 'sp-naive,mup-global,mup2',
    widths: '1,16',
    lrs: '0.0125,0.025,0.05,0.1',
    rhos: '0.05,0.1',
    seeds: '0,1,2',
  });
  const optima: Figure1Optima = {
    // Smoothed optima between grid values: each snaps to the nearest in log2.
    series: [
      series('SGD SP', 0.06),
      series('SGD µP', 0.03),
      series('sp-naive', 0.021),
      series('mup-global', 0.0135),
      series('mup2', 0.026),
    ],
    differences: [],
    seeds: [0, 1, 2],
  };

  it('runs every preset at its grid-nearest optimal η at the widest width for the extra seeds, SGD apart', () => {
    const sweeps = rightPanelSweeps(grid, optima, 'sam', [3, 4, 5, 6, 7]);
    expect(sweeps.map((sweep) => [sweep.name, sweep.grid.presets, sweep.grid.rules, sweep.grid.lrs])).toEqual([
      ['sam-lr-0.0125', ['mup-global'], ['sam'], [0.0125]],
      ['sam-lr-0.025', ['sp-naive', 'mup2'], ['sam'], [0.025]],
      ['sgd-sp-lr-0.05', ['sp-naive'], ['sgd'], [0.05]],
      ['sgd-mup-lr-0.025', ['mup-global'], ['sgd'], [0.025]],
    ]);
    for (const sweep of sweeps) {
      expect(sweep.grid).toMatchObject({ widths: [16], seeds: [3, 4, 5, 6, 7], rhos: [0.05, 0.1] });
      expect(() => parseGrid(sweep.grid)).not.toThrow();
    }
    expect(Object.fromEntries(rightPanelLrs(sweeps))).toEqual({
      'mup-global': 0.0125,
      'sp-naive': 0.025,
      mup2: 0.025,
      'SGD SP': 0.05,
      'SGD µP': 0.025,
    });
  });

  it('keeps the presets a folder already ran when a grown grid moved their optimal η elsewhere', () => {
    const [moved] = rightPanelSweeps(grid, optima, 'sam', [3, 4]);
    if (moved === undefined) throw new Error('expected a sweep');
    // Before the grid grew, sp-naive and mup-global shared η = 0.0125; now only mup-global is there.
    const before = { ...moved.grid, presets: ['sp-naive', 'mup-global'] };
    const widened = withPresetsAlreadyRun(moved.grid, before);
    expect(widened.presets).toEqual(['sp-naive', 'mup-global']);
    const cells = new Set(expandGrid(parseGrid(widened)).map((cell) => cell.id));
    for (const cell of expandGrid(parseGrid(before))) expect(cells.has(cell.id)).toBe(true);
    // A new folder, or one whose presets are all still here, runs the sweep's own grid.
    expect(withPresetsAlreadyRun(moved.grid, undefined)).toBe(moved.grid);
    expect(withPresetsAlreadyRun(moved.grid, { ...moved.grid })).toBe(moved.grid);
    // The lines still take each preset's η from the sweeps, not from the widened grid.
    expect(rightPanelLrs([{ ...moved, grid: moved.grid }]).get('sp-naive')).toBeUndefined();
  });

  it('averages every seed of a preset’s η at the widest width, diverged runs as 0, failed ones left out', () => {
    const row = (
      rule: string,
      preset: string,
      lr: number,
      rho: number,
      seed: number,
      accuracy: number,
      status = 'ok',
    ) =>
      ({
        cellId: `${rule}${preset}${lr}${rho}${seed}`,
        config: { model: 'mlp', dataset: 'mnist', widthMult: 16, rule, preset, lr, rho, epochs: 1, batch: 8, seed },
        seed,
        finalTestAccuracy: accuracy,
        status,
      }) as SweepRow;
    const rows = [
      row('sam', 'mup2', 0.025, 0.1, 0, 0.8),
      row('sam', 'mup2', 0.025, 0.1, 3, 0.9),
      row('sam', 'mup2', 0.025, 0.1, 4, 0.5, 'diverged'),
      row('sam', 'mup2', 0.025, 0.1, 5, 0.99, 'failed'),
      row('sam', 'mup2', 0.05, 0.1, 0, 0.99),
      row('sgd', 'sp-naive', 0.05, 0, 0, 0.7),
    ];
    const lines = rightPanelLines(
      rows,
      16,
      new Map([
        ['mup2', 0.025],
        ['SGD SP', 0.05],
      ]),
      'sam',
    );
    expect(lines.map((line) => line.name)).toEqual(['SGD SP', 'mup2']);
    const [sgd, mup2] = lines;
    expect(sgd?.points).toEqual([{ rho: 0, mean: 0.7, std: 0, seeds: 1 }]);
    expect(mup2?.points[0]?.mean).toBeCloseTo((0.8 + 0.9 + 0) / 3, 12);
    expect(mup2?.points[0]?.seeds).toBe(3);
    expect(rightPanelTable(lines).split('\n')[0]).toBe('| | η | ρ = 0.1 | SGD (ρ = 0) |');
  });
});
