import { describe, expect, it } from 'vitest';
import { figure1FixtureRows } from '../../fixtures/figure1-rows.js';
import { figure1Optima } from './figure1-optima.js';

describe('figure1Optima', () => {
  it('puts SGD in SP and µP first, then the presets in the paper’s order, with their optima and drifts', () => {
    const { series, differences, seeds } = figure1Optima(figure1FixtureRows(), 'sam', { resamples: 100 });
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
