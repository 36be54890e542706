import { describe, expect, it } from 'vitest';
import type { SweepRow } from '../sweep/results-log.js';
import { figure1Optima } from './figure1-optima.js';

const lrs = [0.0125, 0.025, 0.05, 0.1, 0.2];
const rhos = [0.025, 0.05, 0.1, 0.2, 0.4];

/** Rows whose accuracy peaks at grid index (2, 2) at every width, except mup-global's ρ*, which doubles with width. */
function fixtureRows(): SweepRow[] {
  const rows: SweepRow[] = [];
  const add = (
    rule: string,
    preset: string,
    widthMult: number,
    lr: number,
    rho: number,
    seed: number,
    accuracy: number,
  ) =>
    rows.push({
      cellId: `${rule}-${preset}-${widthMult}-${lr}-${rho}-${seed}`,
      config: {
        model: 'mlp',
        dataset: 'fashion-mnist',
        widthMult,
        rule,
        preset: preset as 'mup2',
        lr,
        rho,
        epochs: 1,
        batch: 128,
        seed,
      },
      seed,
      finalTestAccuracy: accuracy,
      status: 'ok',
    } as SweepRow);
  for (const widthMult of [1, 2, 4])
    for (const seed of [0, 1, 2]) {
      const noise = 0.001 * (seed - 1);
      lrs.forEach((lr, i) => {
        add('sgd', 'sp-naive', widthMult, lr, 0, seed, 0.7 - 0.01 * (i - 2) ** 2 + noise);
        add('sgd', 'mup2', widthMult, lr, 0, seed, 0.7 - 0.01 * (i - 1) ** 2 + noise);
        rhos.forEach((rho, j) => {
          add('sam', 'mup2', widthMult, lr, rho, seed, 0.75 - 0.01 * (i - 2) ** 2 - 0.01 * (j - 2) ** 2 + noise);
          const moving = 1 + Math.log2(widthMult);
          add(
            'sam',
            'mup-global',
            widthMult,
            lr,
            rho,
            seed,
            0.75 - 0.01 * (i - 2) ** 2 - 0.01 * (j - moving) ** 2 + noise,
          );
        });
      });
    }
  // A failed cell enters nothing; a diverged one counts as accuracy 0.
  rows.push({ ...rows[0]!, cellId: 'failed', status: 'failed', finalTestAccuracy: 0.99 } as SweepRow);
  return rows;
}

describe('figure1Optima', () => {
  it('puts SGD in SP and µP first, then the presets in the paper’s order, with their optima and drifts', () => {
    const { series, differences, seeds } = figure1Optima(fixtureRows(), 'sam', { resamples: 100 });
    expect(series.map((entry) => entry.name)).toEqual(['SGD SP', 'SGD µP', 'mup-global', 'mup2']);
    expect(seeds).toEqual([0, 1, 2]);
    const byName = Object.fromEntries(series.map((entry) => [entry.name, entry]));
    expect(byName['SGD SP']?.optima.map((optimum) => 2 ** optimum.log2Lr)).toEqual(
      [0.05, 0.05, 0.05].map((v) => expect.closeTo(v, 6)),
    );
    expect(byName['SGD µP']?.optima[0]?.log2Rho).toBeNull();
    expect(byName.mup2?.rhoDrift?.perDoubling).toBeCloseTo(0, 6);
    // mup-global's ρ* index goes 1 → 2 → 3: one grid step (a factor of 2) per doubling, read a tenth
    // of a step steeper where the optimum sits next to the grid's edges.
    expect(Math.abs((byName['mup-global']?.rhoDrift?.perDoubling as number) - 1)).toBeLessThan(0.15);
    expect(differences).toHaveLength(1);
    expect(differences[0]?.preset).toBe('mup-global');
    expect(differences[0]?.rho?.interval.high).toBeLessThan(0);
  });
});
