import { describe, expect, it } from 'vitest';
import type { CellConfig } from '../sweep/grid.js';
import type { SweepRow } from '../sweep/results-log.js';
import { aggregateSweep, byNameOrder, experimentLabel, PRESET_ORDER } from './sweep-aggregate.js';

const base = { model: 'mlp', dataset: 'mnist', epochs: 1, batch: 128 } as const;

function row(
  config: Partial<CellConfig> & Pick<CellConfig, 'widthMult' | 'lr' | 'rho' | 'seed'>,
  accuracy: number | null,
  status: SweepRow['status'] = 'ok',
): SweepRow {
  const full: CellConfig = { ...base, rule: 'sam', preset: 'mup2', ...config };
  return {
    cellId: JSON.stringify(full),
    config: full,
    seed: full.seed,
    finalTestAccuracy: accuracy,
    bestTestAccuracy: accuracy,
    trainLoss: null,
    seconds: 1,
    backend: 'cpu',
    status,
    ...(status === 'failed' ? { error: 'boom' } : {}),
  };
}

// Width 1, two seeds per cell:
//   (η 0.1, ρ 0.01): 0.90, 0.92   → mean 0.91, std √((0.01² + 0.01²)/1) = 0.0141421
//   (η 0.1, ρ 0.1):  0.95, 0.97   → mean 0.96 (the optimum), std 0.0141421
//   (η 1,   ρ 0.01): 0.955, 0.945 → mean 0.95, exactly one point below: inside the outline; std 0.0070711
//   (η 1,   ρ 0.1):  diverged (0), 0.5 → mean 0.25 < 0.3: unstable; std √((0.25² + 0.25²)/1) = 0.3535534
// Width 2, one seed:
//   (η 0.1, ρ 0.01): 0.6, then rerun 0.8 → the last row wins: 0.8, the optimum (first of a tie in (η, ρ) order)
//   (η 0.1, ρ 0.1):  0.8 → tied, within one point
//   (η 1,   ρ 0.01): failed → no point
//   (η 1,   ρ 0.1):  0.7 → more than one point below
// SGD, another experiment (2 epochs): one cell, 0.93.
const rows: SweepRow[] = [
  row({ widthMult: 1, lr: 0.1, rho: 0.01, seed: 0 }, 0.9),
  row({ widthMult: 1, lr: 0.1, rho: 0.01, seed: 1 }, 0.92),
  row({ widthMult: 1, lr: 0.1, rho: 0.1, seed: 0 }, 0.95),
  row({ widthMult: 1, lr: 0.1, rho: 0.1, seed: 1 }, 0.97),
  row({ widthMult: 1, lr: 1, rho: 0.01, seed: 0 }, 0.955),
  row({ widthMult: 1, lr: 1, rho: 0.01, seed: 1 }, 0.945),
  row({ widthMult: 1, lr: 1, rho: 0.1, seed: 0 }, 0, 'diverged'),
  row({ widthMult: 1, lr: 1, rho: 0.1, seed: 1 }, 0.5),
  row({ widthMult: 2, lr: 0.1, rho: 0.1, seed: 0 }, 0.8),
  row({ widthMult: 2, lr: 0.1, rho: 0.01, seed: 0 }, 0.6),
  row({ widthMult: 2, lr: 1, rho: 0.01, seed: 0 }, null, 'failed'),
  row({ widthMult: 2, lr: 1, rho: 0.1, seed: 0 }, 0.7),
  row({ widthMult: 2, lr: 0.1, rho: 0.01, seed: 0 }, 0.8),
  row({ rule: 'sgd', preset: 'sp-naive', epochs: 2, widthMult: 1, lr: 0.1, rho: 0, seed: 0 }, 0.93),
];

describe('aggregateSweep', () => {
  const aggregate = aggregateSweep(rows);
  const point = (widthMult: number, lr: number, rho: number) =>
    aggregate.points.find((p) => p.rule === 'sam' && p.widthMult === widthMult && p.lr === lr && p.rho === rho);

  it('averages over seeds, with the sample standard deviation', () => {
    expect(point(1, 0.1, 0.01)).toMatchObject({ seeds: 2, diverged: 0 });
    expect(point(1, 0.1, 0.01)!.meanAccuracy).toBeCloseTo(0.91, 12);
    expect(point(1, 0.1, 0.01)!.stdAccuracy).toBeCloseTo(0.0141421356, 9);
    expect(point(1, 1, 0.01)!.meanAccuracy).toBeCloseTo(0.95, 12);
    expect(point(1, 1, 0.01)!.stdAccuracy).toBeCloseTo(0.0070710678, 9);
  });

  it('counts a diverged seed as accuracy 0 and greys a mean below 30% as unstable', () => {
    expect(point(1, 1, 0.1)).toMatchObject({ seeds: 2, diverged: 1, unstable: true });
    expect(point(1, 1, 0.1)!.meanAccuracy).toBeCloseTo(0.25, 12);
    expect(point(1, 1, 0.1)!.stdAccuracy).toBeCloseTo(0.3535533906, 9);
    expect(point(1, 0.1, 0.01)!.unstable).toBe(false);
  });

  it('finds one optimum per (preset, width) and the points within one point of it', () => {
    const optima = aggregate.optima.filter((p) => p.rule === 'sam');
    expect(optima.map((p) => [p.widthMult, p.lr, p.rho])).toEqual([
      [1, 0.1, 0.1],
      [2, 0.1, 0.01],
    ]);
    expect(optima[0]!.meanAccuracy).toBeCloseTo(0.96, 12);
    const near = (widthMult: number) =>
      aggregate.points
        .filter((p) => p.rule === 'sam' && p.widthMult === widthMult && p.nearOptimum)
        .map((p) => [p.lr, p.rho]);
    expect(near(1)).toEqual([
      [0.1, 0.1],
      [1, 0.01],
    ]);
    expect(near(2)).toEqual([
      [0.1, 0.01],
      [0.1, 0.1],
    ]);
  });

  it('keeps the last row of a rerun cell and sets failed cells aside', () => {
    expect(point(2, 0.1, 0.01)).toMatchObject({ seeds: 1, meanAccuracy: 0.8, stdAccuracy: 0 });
    expect(point(2, 1, 0.01)).toBeUndefined();
    expect(aggregate.failed.map((r) => r.config.lr)).toEqual([1]);
  });

  it('separates experiments by the settings that are not swept', () => {
    expect(aggregate.experiments).toEqual(['mlp on mnist, 1 epoch, batch 128', 'mlp on mnist, 2 epochs, batch 128']);
    const sgd = aggregate.points.filter((p) => p.rule === 'sgd');
    expect(sgd).toHaveLength(1);
    expect(sgd[0]).toMatchObject({
      experiment: 'mlp on mnist, 2 epochs, batch 128',
      meanAccuracy: 0.93,
      optimum: true,
    });
    expect(aggregate.points).toHaveLength(8);
  });

  it('orders points by rule, preset (the paper’s order), width, η, ρ', () => {
    const mixed = aggregateSweep([
      row({ preset: 'mup2', widthMult: 1, lr: 0.1, rho: 0.1, seed: 0 }, 0.9),
      row({ preset: 'sp-naive', widthMult: 1, lr: 1, rho: 0.1, seed: 0 }, 0.9),
      row({ preset: 'sp-naive', widthMult: 1, lr: 0.1, rho: 0.1, seed: 0 }, 0.9),
      row({ rule: 'sgd', preset: 'mup2', widthMult: 1, lr: 0.1, rho: 0, seed: 0 }, 0.9),
    ]);
    expect(mixed.points.map((p) => `${p.rule} ${p.preset} ${p.lr} ${p.rho}`)).toEqual([
      'sgd mup2 0.1 0',
      'sam sp-naive 0.1 0.1',
      'sam sp-naive 1 0.1',
      'sam mup2 0.1 0',
      'sam mup2 0.1 0.1',
    ]);
  });

  it('makes the SGD runs each rule’s ρ = 0 points in the same parameterization, unless the rule ran ρ = 0 itself', () => {
    const withSgd = aggregateSweep([
      row({ preset: 'sp-naive', widthMult: 1, lr: 0.1, rho: 0.1, seed: 0 }, 0.9),
      row({ preset: 'sp-lp', widthMult: 1, lr: 0.1, rho: 0.1, seed: 0 }, 0.9),
      row({ preset: 'mup2', widthMult: 1, lr: 0.1, rho: 0.1, seed: 0 }, 0.9),
      row({ preset: 'mup2', widthMult: 2, lr: 0.1, rho: 0.1, seed: 0 }, 0.9),
      row({ preset: 'mup-global', widthMult: 1, lr: 0.1, rho: 0, seed: 0 }, 0.7),
      row({ preset: 'mup-global', widthMult: 1, lr: 0.1, rho: 0.1, seed: 0 }, 0.9),
      {
        ...row({ rule: 'sgd', preset: 'sp-naive', widthMult: 1, lr: 0.1, rho: 0, seed: 0 }, 0.8),
        finalTrainAccuracy: 0.97,
      },
      row({ rule: 'sgd', preset: 'sp-naive', widthMult: 1, lr: 0.1, rho: 0, seed: 1 }, 0.6),
      row({ rule: 'sgd', preset: 'mup-naive', widthMult: 1, lr: 0.1, rho: 0, seed: 0 }, 0.85),
      row({ rule: 'sgd', preset: 'mup-naive', widthMult: 1, lr: 0.3, rho: 0, seed: 0 }, 0.5),
    ]);
    const zero = withSgd.points.filter((p) => p.rule === 'sam' && p.rho === 0);
    expect(zero.map((p) => [p.preset, p.widthMult, p.lr, p.meanAccuracy, p.fromSgd])).toEqual([
      // SP SGD (mean of its two seeds) under both SP presets.
      ['sp-naive', 1, 0.1, 0.7, true],
      ['sp-lp', 1, 0.1, 0.7, true],
      // µP SGD under the µP presets; mup-global's own ρ = 0 run stays (not replaced), and SGD at η 0.3 too.
      ['mup-global', 1, 0.1, 0.7, false],
      ['mup-global', 1, 0.3, 0.5, true],
      ['mup2', 1, 0.1, 0.85, true],
      ['mup2', 1, 0.3, 0.5, true],
    ]);
    // The copy keeps the run's other numbers: the train accuracy of the seed that recorded it.
    expect(zero[0]?.meanTrainAccuracy).toBe(0.97);
    expect(zero[0]?.stdAccuracy).toBeCloseTo(Math.SQRT2 * 0.1, 12);
    // No SGD rows at width 2, so no ρ = 0 point there; the SGD points themselves are unchanged.
    expect(zero.some((p) => p.widthMult === 2)).toBe(false);
    expect(withSgd.points.filter((p) => p.rule === 'sgd').every((p) => !p.fromSgd)).toBe(true);
    // µP SGD (0.85) is below mup2's SAM (0.9): the optimum at width 1 stays ρ 0.1.
    expect(withSgd.optima.find((p) => p.preset === 'mup2' && p.widthMult === 1)?.rho).toBe(0.1);
    expect(aggregateSweep([row({ widthMult: 1, lr: 0.1, rho: 0.1, seed: 0 }, 0.9)]).points).toHaveLength(1);
  });
});

describe('experimentLabel and byNameOrder', () => {
  it('names the model, dataset, epochs and every other fixed setting', () => {
    expect(
      experimentLabel({ ...base, rule: 'sam', preset: 'mup2', widthMult: 1, lr: 1, rho: 1, seed: 0, limit: 256 }),
    ).toBe('mlp on mnist, 1 epoch, batch 128, limit 256');
  });

  it('puts known names first in their order, unknown ones after, alphabetically', () => {
    expect(['zeta', 'mup2', 'alpha', 'sp-naive'].sort(byNameOrder(PRESET_ORDER))).toEqual([
      'sp-naive',
      'mup2',
      'alpha',
      'zeta',
    ]);
  });
});
