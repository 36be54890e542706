import { describe, expect, it } from 'vitest';
import { expandGrid, parseGrid } from '../sweep/grid.js';
import { figure1Grid, figure1RightPanelSeeds } from './figure1-grid.js';

describe('figure1Grid', () => {
  it('has no width below µP’s base, at least 3 seeds, and ×1 and ×8 in --quick', () => {
    for (const quick of [true, false]) {
      const grid = parseGrid(figure1Grid(quick, '/nonexistent'));
      expect(Math.min(...grid.widths)).toBe(1);
      expect(grid.seeds.length).toBeGreaterThanOrEqual(3);
      expect(grid.labelNoise).toBe(0.4);
    }
    expect(parseGrid(figure1Grid(false, '/nonexistent')).presets).toEqual([
      'sp-naive',
      'sp-lp',
      'mup-naive',
      'mup-global',
      'mup2',
    ]);
    expect(parseGrid(figure1Grid(true)).presets).toEqual(['sp-naive', 'mup-global', 'mup2']);
    expect(parseGrid(figure1Grid(true)).widths).toEqual([1, 8]);
    expect(parseGrid(figure1Grid(false, '/nonexistent')).widths).toEqual([1, 2, 4, 8, 16]);
  });

  it('adds right-panel seeds up to 8 in the full run only', () => {
    const grid = parseGrid(figure1Grid(false, '/nonexistent'));
    expect(figure1RightPanelSeeds(false, grid)).toEqual([3, 4, 5, 6, 7]);
    expect(figure1RightPanelSeeds(true, grid)).toEqual([]);
    expect(expandGrid(parseGrid(figure1Grid(true))).length).toBeGreaterThan(0);
  });
});
