import { compile, type TopLevelSpec } from 'vega-lite';
import { describe, expect, it } from 'vitest';
import { figure1FixtureRows } from '../../fixtures/figure1-rows.js';
import { figure1Optima } from '../experiments/figure1-optima.js';
import { rightPanelLines } from '../experiments/figure1-right-panel.js';
import type { CellConfig } from '../sweep/grid.js';
import type { SweepRow } from '../sweep/results-log.js';
import { heatmapChart, regionOutline } from './heatmap-chart.js';
import { parameterizationOf } from './parameterization.js';
import { rhoProfileChart } from './rho-profile-chart.js';
import { ruleComparisonChart } from './rule-comparison-chart.js';
import { aggregateSweep } from './sweep-aggregate.js';
import { transferChart } from './transfer-chart.js';

type Logger = NonNullable<NonNullable<Parameters<typeof compile>[1]>['logger']>;

/** Vega-Lite's warnings while compiling `spec` (an unknown property, a channel that does not fit its mark, …). */
function compileWarnings(spec: TopLevelSpec): string[] {
  const warnings: string[] = [];
  let level = 2;
  const logger = {
    level(value?: number) {
      if (value === undefined) return level;
      level = value;
      return logger;
    },
    warn(...args: unknown[]) {
      warnings.push(args.join(' '));
      return logger;
    },
    error(...args: unknown[]) {
      warnings.push(`error: ${args.join(' ')}`);
      return logger;
    },
    info: () => logger,
    debug: () => logger,
  } as unknown as Logger;
  compile(spec, { logger });
  return warnings;
}

const sortKey = (edge: { x: number; x2: number; y: number; y2: number }) => `${edge.x},${edge.x2},${edge.y},${edge.y2}`;

describe('regionOutline', () => {
  it('draws the four sides of a lone cell', () => {
    expect(
      regionOutline([[2, 3]])
        .map(sortKey)
        .sort(),
    ).toEqual(['1.5,1.5,2.5,3.5', '2.5,2.5,2.5,3.5', '1.5,2.5,2.5,2.5', '1.5,2.5,3.5,3.5'].sort());
  });

  it('draws the boundary of an L of three cells, not the sides they share', () => {
    // Cells (0,0), (1,0), (0,1): 12 sides, 2 shared pairs → 8 boundary sides.
    const edges = regionOutline([
      [0, 0],
      [1, 0],
      [0, 1],
    ]).map(sortKey);
    expect(edges).toHaveLength(8);
    expect(edges).not.toContain('0.5,0.5,-0.5,0.5'); // between (0,0) and (1,0)
    expect(edges).not.toContain('-0.5,0.5,0.5,0.5'); // between (0,0) and (0,1)
    expect(edges).toContain('0.5,0.5,0.5,1.5'); // right side of (0,1), next to the empty (1,1)
    expect(edges).toContain('0.5,1.5,0.5,0.5'); // top of (1,0)
  });
});

const base = { model: 'mlp', dataset: 'mnist', epochs: 1, batch: 128 } as const;
const row = (config: Omit<CellConfig, keyof typeof base>, accuracy: number): SweepRow => ({
  cellId: JSON.stringify(config),
  config: { ...base, ...config },
  seed: config.seed,
  finalTestAccuracy: accuracy,
  bestTestAccuracy: accuracy,
  trainLoss: 0.1,
  seconds: 1,
  backend: 'cpu',
  status: 'ok',
});

// SAM in two presets at widths 1 and 2, η ∈ {0.1, 1}, ρ ∈ {0.01, 0.1}; SGD in SP and µP at both widths.
const rows: SweepRow[] = [];
for (const preset of ['sp-naive', 'mup2'] as const) {
  for (const widthMult of [1, 2]) {
    rows.push(row({ rule: 'sam', preset, widthMult, lr: 0.1, rho: 0.01, seed: 0 }, 0.9));
    rows.push(row({ rule: 'sam', preset, widthMult, lr: 0.1, rho: 0.1, seed: 0 }, 0.92));
    rows.push(row({ rule: 'sam', preset, widthMult, lr: 1, rho: 0.01, seed: 0 }, preset === 'mup2' ? 0.95 : 0.2));
    rows.push(row({ rule: 'sam', preset, widthMult, lr: 1, rho: 0.1, seed: 0 }, preset === 'mup2' ? 0.96 : 0.1));
  }
}
for (const [preset, accuracy] of [
  ['sp-naive', 0.91],
  ['mup-naive', 0.93],
  ['mup2', 0.94],
] as const) {
  rows.push(row({ rule: 'sgd', preset, widthMult: 2, lr: 0.1, rho: 0, seed: 0 }, accuracy));
  rows.push(row({ rule: 'sgd', preset, widthMult: 1, lr: 0.1, rho: 0, seed: 0 }, 0.5));
}
const aggregate = aggregateSweep(rows);
// SAM's own points; its ρ = 0 points made of the SGD runs are tested in sweep-aggregate.test.ts.
const sam = aggregate.points.filter((point) => point.rule === 'sam' && !point.fromSgd);

describe('parameterizationOf', () => {
  it('reads the parameterization from core’s presets', () => {
    expect(
      ['sp-naive', 'sp-lp', 'mup-naive', 'mup-global', 'mup2', 'sp-custom', 'other'].map(parameterizationOf),
    ).toEqual(['sp', 'sp', 'mup', 'mup', 'mup', 'sp', 'mup']);
  });
});

// Figure 1 rows with a known answer (fixtures/figure1-rows.ts): their optima and right panel.
const figureRows = figure1FixtureRows();
const figureOptima = figure1Optima(figureRows, 'sam', { resamples: 20 });
const panel = rightPanelLines(
  figureRows,
  4,
  new Map([
    ['SGD SP', 0.05],
    ['SGD µP', 0.025],
    ['mup2', 0.05],
  ]),
  'sam',
);

describe('chart specs', () => {
  it('heatmap: a cell per point, grey where unstable, one × per panel, the outline of the near-optimal region', () => {
    const spec = heatmapChart(sam, 'title') as { data: { values: Record<string, unknown>[] } };
    const cells = spec.data.values.filter((value) => value.kind === 'cell');
    expect(cells).toHaveLength(16);
    expect(cells.filter((cell) => cell.optimum)).toHaveLength(4);
    // sp-naive: η = 1 gives 0.2 and 0.1 → unstable at both widths.
    expect(cells.filter((cell) => cell.unstable).map((cell) => [cell.preset, cell.lr])).toEqual([
      ['sp-naive', 1],
      ['sp-naive', 1],
      ['sp-naive', 1],
      ['sp-naive', 1],
    ]);
    // mup2: optimum 0.96 at (η 1, ρ 0.1), 0.95 at (η 1, ρ 0.01) within a point → a 1×2 region, 6 sides;
    // sp-naive: optimum 0.92 alone (0.9 is two points below) → 4 sides. Per width: 10; two widths: 20.
    expect(spec.data.values.filter((value) => value.kind === 'edge')).toHaveLength(20);
    // η and ρ in index space: cell (i, j) spans i ± ½, j ± ½.
    expect(cells.find((cell) => cell.preset === 'mup2' && cell.widthMult === 2 && cell.optimum)).toMatchObject({
      i: 1,
      j: 1,
      x: 0.5,
      x2: 1.5,
    });
  });

  it('accuracy against ρ: each preset at its optimal η, SGD as dashed baselines, seeds in the legend', () => {
    const spec = rhoProfileChart(panel, 4, 'title') as {
      layer: { data: { values: Record<string, unknown>[] } }[];
    };
    const profile = spec.layer[1]!.data.values;
    expect(profile.map((entry) => [entry.series, entry.rho])).toEqual(
      [0.025, 0.05, 0.1, 0.2, 0.4].map((rho) => ['mup2 (η = 0.05, 3 seeds)', rho]),
    );
    expect(profile[2]?.accuracy).toBeCloseTo(0.75, 12);
    expect(spec.layer[2]!.data.values.map((entry) => entry.series)).toEqual([
      'SGD SP (η = 0.05, 3 seeds)',
      'SGD µP (η = 0.025, 3 seeds)',
    ]);
  });

  it('transfer: each series’ smoothed optimum per width with its interval; SGD in the η panel only', () => {
    const spec = transferChart(figureOptima.series, 'title') as {
      hconcat: {
        data: { values: { series: string; widthMult: number; value: number; low: number; high: number }[] };
      }[];
    };
    expect(spec.hconcat).toHaveLength(2);
    const [lr, rho] = spec.hconcat;
    expect(new Set(lr!.data.values.map((entry) => entry.series))).toEqual(
      new Set(['SGD SP', 'SGD µP', 'mup-global', 'mup2']),
    );
    expect(rho!.data.values.some((entry) => entry.series.startsWith('SGD'))).toBe(false);
    const mup2 = rho!.data.values.filter((entry) => entry.series === 'mup2');
    expect(mup2.map((entry) => [entry.widthMult, entry.value])).toEqual([
      [1, expect.closeTo(0.1, 6)],
      [2, expect.closeTo(0.1, 6)],
      [4, expect.closeTo(0.1, 6)],
    ]);
    for (const entry of rho!.data.values) expect(entry.low <= entry.value && entry.value <= entry.high).toBe(true);
  });

  it('every chart compiles without Vega-Lite warnings', () => {
    // The logger does hear warnings: a shape on a bar is dropped with one.
    expect(
      compileWarnings({ data: { values: [] }, mark: 'bar', encoding: { shape: { field: 'a', type: 'nominal' } } }),
    ).not.toEqual([]);
    const optima = aggregate.optima;
    const specs = [
      heatmapChart(sam, 'heatmap', ['subtitle']),
      transferChart(figureOptima.series, 'transfer'),
      rhoProfileChart(panel, 4, 'profile'),
      ruleComparisonChart(
        optima.filter((point) => point.widthMult === 2),
        'rules',
      ),
    ];
    for (const spec of specs) expect(compileWarnings(spec)).toEqual([]);
  });

  it('heatmap with every cell unstable: no colour legend (it would read NaN), a note instead', () => {
    const unstable = sam.map((point) => ({ ...point, meanAccuracy: 0.1, unstable: true }));
    const spec = heatmapChart(unstable, 'title') as unknown as {
      title: { subtitle: string[] };
      spec: { layer: { encoding: { color?: { legend: unknown } } }[] };
    };
    expect(spec.spec.layer[0]?.encoding.color?.legend).toBeNull();
    expect(spec.title.subtitle).toContain('every cell is below 30%: nothing trained stably');
    expect(compileWarnings(heatmapChart(unstable, 'title'))).toEqual([]);
  });
});
