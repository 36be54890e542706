import { describe, expect, it } from 'vitest';
import type { SweepRow } from '../sweep/results-log.js';
import type { SweepContents } from './read-results-folder.js';
import { sweepSection } from './sweep-section.js';

// SAM at 2 widths × 1 η × 2 radii and SGD (no radius) at 2 widths × 1 η: 4 + 2 = 6 cells.
const grid = {
  models: ['mlp'],
  datasets: ['mnist'],
  rules: ['sgd', 'sam'],
  presets: ['mup2'],
  widths: [1, 2],
  lrs: [0.1],
  rhos: [0.05, 0.1],
  seeds: [0],
  epochs: [1],
  batches: [128],
};

const row = (cellId: string, rule: string, widthMult: number, rho: number, accuracy = 0.9): SweepRow => ({
  cellId,
  config: {
    model: 'mlp',
    dataset: 'mnist',
    rule,
    preset: 'mup2',
    widthMult,
    lr: 0.1,
    rho,
    epochs: 1,
    batch: 128,
    seed: 0,
  },
  seed: 0,
  finalTestAccuracy: accuracy,
  bestTestAccuracy: accuracy,
  trainLoss: 0.3,
  seconds: 1,
  backend: 'cpu',
  status: 'ok',
});

const html = (sweep: SweepContents) =>
  sweepSection(sweep)
    .blocks.map((block) => ('html' in block ? block.html : ''))
    .join('');

describe('sweepSection says whether the rows are the whole grid', () => {
  const twoRows = [row('a', 'sam', 2, 0.05), row('b', 'sgd', 2, 0)];

  it('counts the rows against the grid’s cells and names a sweep still writing', () => {
    const text = html({ grid, rows: twoRows, skippedLines: [], lock: { pid: 4242, alive: true } });
    expect(text).toContain('<strong>Partial: 2 of the grid’s 6 cells.</strong>');
    expect(text).toContain('A sweep (pid 4242) was still writing to this folder');
  });

  it('says a lock whose process is gone belongs to a sweep that stopped', () => {
    const text = html({ grid, rows: twoRows, skippedLines: [], lock: { pid: 4242, alive: false } });
    expect(text).toContain('no longer running (stopped before it finished)');
  });

  it('says nothing of the kind for a complete grid with no lock, or without a grid to count', () => {
    const all = [
      ...twoRows,
      row('c', 'sam', 2, 0.1),
      row('d', 'sam', 1, 0.05),
      row('e', 'sam', 1, 0.1),
      row('f', 'sgd', 1, 0),
    ];
    expect(html({ grid, rows: all, skippedLines: [] })).not.toMatch(/Partial|still writing|no longer running/);
    expect(html({ rows: twoRows, skippedLines: [] })).not.toContain('Partial');
  });
});

describe('sweepSection gives the optima with their intervals and drifts across widths', () => {
  it('tables ρ* and η* per width with the drift per doubling, the verdict, and SGD’s η* alone for rule sgd', () => {
    // ×1: ρ 0.05 beats 0.1; ×2: ρ 0.1 beats 0.05, the grid's edge; one seed, so no interval.
    const rows = [
      row('a', 'sam', 1, 0.05, 0.9),
      row('b', 'sam', 1, 0.1, 0.8),
      row('c', 'sgd', 1, 0, 0.7),
      row('d', 'sam', 2, 0.05, 0.8),
      row('e', 'sam', 2, 0.1, 0.9),
      row('f', 'sgd', 2, 0, 0.7),
    ];
    const text = html({ grid, rows, skippedLines: [] });
    expect(text).toContain('Optima of sam per width');
    // The maximum moves one grid step (a factor of 2) from ×1 to ×2: +1.00 per doubling.
    expect(text).toMatch(
      /<td>mup2<\/td>\s*<td>0\.05 \[–\] \(edge\)<\/td>\s*<td>0\.1 \[–\] \(edge\)<\/td>\s*<td>\+1\.00 \[–\]<\/td>/,
    );
    expect(text).toContain('Optima of sgd per width');
  });
});
