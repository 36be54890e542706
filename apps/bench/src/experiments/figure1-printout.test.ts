import { describe, expect, it } from 'vitest';
import { figure1FixtureRows } from '../../fixtures/figure1-rows.js';
import { figure1Optima } from './figure1-optima.js';
import { accuracyTable, figure1Printout } from './figure1-printout.js';

describe('figure1Printout', () => {
  const rows = figure1FixtureRows();
  const optima = figure1Optima(rows, 'sam', { resamples: 50 });

  it('gives the accuracy of the grid cell nearest each optimum, SGD’s from its own parameterization', () => {
    const lines = accuracyTable(optima, rows, 'sam').split('\n');
    expect(lines[0]).toBe('| | ×1 | ×2 | ×4 |');
    // SGD SP peaks at 0.70 (seed mean) with seeds at 0.699, 0.700, 0.701: std 0.001.
    expect(lines[2]).toBe('| SGD SP | 70.00 ± 0.10 (99.00) | 70.00 ± 0.10 (99.00) | 70.00 ± 0.10 (99.00) |');
    expect(lines.find((line) => line.startsWith('| mup2 '))).toBe(
      '| mup2 | 75.00 ± 0.10 (99.00) | 75.00 ± 0.10 (99.00) | 75.00 ± 0.10 (99.00) |',
    );
  });

  it('prints the ρ* and η* tables, the verdict and the right panel at each preset’s optimal η', () => {
    const text = figure1Printout(optima, rows, 4, 'sam');
    expect(text).toContain('| mup2 | 0.1 [0.1, 0.1] | 0.1 [0.1, 0.1] | 0.1 [0.1, 0.1] | +0.00 [+0.00, +0.00] |');
    expect(text).toContain(
      '- mup2: log2 ρ* moves +0.00 [+0.00, +0.00] per doubling of width; its 90% interval contains 0',
    );
    expect(text).toContain('The right panel at ×4');
    expect(text).toMatch(/\| mup2 \| 0\.05 \| 71\.00 ± 0\.10 \(3\) \| 74\.00 ± 0\.10 \(3\) \| 75\.00 ± 0\.10 \(3\) \|/);
  });
});
