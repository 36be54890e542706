import { describe, expect, it } from 'vitest';
import type { CellConfig } from '../sweep/grid.js';
import type { SweepRow } from '../sweep/results-log.js';
import { table2Cells, table2Markdown } from './table2.js';

function row(
  rule: CellConfig['rule'],
  preset: CellConfig['preset'],
  seed: number,
  accuracy: number | null,
  status: SweepRow['status'] = 'ok',
): SweepRow {
  const config: CellConfig = {
    model: 'resnet18',
    dataset: 'mnist',
    widthMult: 0.125,
    rule,
    preset,
    lr: 0.05,
    rho: rule === 'sgd' ? 0 : 0.05,
    epochs: 1,
    batch: 64,
    seed,
  };
  return {
    cellId: `${rule}-${preset}-${seed}`,
    config,
    seed,
    finalTestAccuracy: accuracy,
    bestTestAccuracy: accuracy,
    trainLoss: 1,
    seconds: 1,
    backend: 'wasm',
    status,
  };
}

describe('table2Cells', () => {
  const rows = [
    row('sgd', 'sp-naive', 0, 0.8),
    row('sgd', 'sp-naive', 1, 0.9),
    row('sam', 'sp-naive', 0, 0.86),
    row('sam', 'sp-naive', 1, 0.9),
    row('sgd', 'mup2', 0, 0.7),
    row('sam', 'mup2', 0, 0.75),
    row('sam', 'mup2', 1, null, 'diverged'),
    row('asam', 'mup2', 0, null, 'failed'),
  ];

  it('averages over seeds per rule and parameterization, with the n−1 std and the gain over SGD', () => {
    const cells = table2Cells(rows, { order: ['sgd', 'sam'], labels: {} });
    const sgdSp = cells.find((cell) => cell.rule === 'sgd' && cell.parameterization === 'SP');
    expect(sgdSp?.mean).toBeCloseTo(0.85, 12);
    expect(sgdSp?.std).toBeCloseTo(Math.sqrt(0.005), 12); // ((0.05)² + (0.05)²) / (2 − 1)
    expect(sgdSp?.improvementOverSgd).toBeNull();
    const samSp = cells.find((cell) => cell.rule === 'sam' && cell.parameterization === 'SP');
    expect(samSp?.mean).toBeCloseTo(0.88, 12);
    expect(samSp?.improvementOverSgd).toBeCloseTo(0.03, 12);
    // A diverged seed counts as accuracy 0; a failed cell enters nothing.
    const samMup = cells.find((cell) => cell.rule === 'sam' && cell.parameterization === 'µP²');
    expect(samMup?.accuracies).toEqual([0.75, 0]);
    expect(samMup?.improvementOverSgd).toBeCloseTo(0.375 - 0.7, 12);
    expect(cells.some((cell) => cell.rule === 'asam')).toBe(false);
    expect(cells.map((cell) => `${cell.rule} ${cell.parameterization}`)).toEqual([
      'sgd SP',
      'sgd µP²',
      'sam SP',
      'sam µP²',
    ]);
  });

  it('lists rules in the order asked for, then by name, SGD first by default', () => {
    const order = (layout?: { order: string[]; labels: Record<string, string> }) => [
      ...new Set(table2Cells([...rows, row('asam', 'mup2', 1, 0.8)], layout).map((cell) => cell.rule)),
    ];
    expect(order()).toEqual(['sgd', 'asam', 'sam']);
    expect(order({ order: ['sgd', 'sam', 'asam'], labels: {} })).toEqual(['sgd', 'sam', 'asam']);
    expect(order({ order: ['sgd'], labels: {} })).toEqual(['sgd', 'asam', 'sam']);
  });

  it('lays the table out as the paper: a row per rule, SP and µP² columns, rules named by their labels', () => {
    const layout = { order: ['sgd', 'sam'], labels: { sam: 'SAM' } };
    const markdown = table2Markdown(table2Cells(rows, layout), layout);
    expect(markdown.split('\n')[0]).toBe('| rule | SP: accuracy (%) | SP: vs SGD | µP²: accuracy (%) | µP²: vs SGD |');
    expect(markdown).toContain('| SGD | 85.00 ± 7.07 (n=2) | – | 70.00 ± 0.00 (n=1) | – |');
    expect(markdown).toContain('| SAM | 88.00 ± 2.83 (n=2) | +3.00 |');
  });
});
