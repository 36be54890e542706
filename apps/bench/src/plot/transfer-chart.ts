import type { TopLevelSpec } from 'vega-lite';
import type { SeriesStatistics } from '../experiments/optimum-statistics.js';
import { CHART_CONFIG, presetColors } from './chart-config.js';

/** The η and ρ values of the grid, for the axes' ticks. */
export interface GridValues {
  readonly lrs: readonly number[];
  readonly rhos: readonly number[];
}

/**
 * The transfer plot: each series' optimal η and optimal ρ against width (the smoothed optimum
 * between grid points, with its 90% bootstrap interval as a bar), two panels on log scales with
 * ticks at the grid's values. Where the optimum transfers, a series' line is flat. SGD series have
 * no radius and appear in the η panel only. Series are drawn a little apart along the width axis so
 * that equal optima stay visible.
 */
export function transferChart(
  series: readonly SeriesStatistics[],
  title: string,
  subtitle: readonly string[] = [],
  grid: GridValues = { lrs: [], rhos: [] },
): TopLevelSpec {
  const names = series.map((entry) => entry.name);
  const widths = [...new Set(series.flatMap((entry) => entry.optima.map((optimum) => optimum.widthMult)))].sort(
    (a, b) => a - b,
  );
  // A small offset in log2(width) per series: a fraction of the narrowest gap between widths.
  const gap = Math.min(...widths.slice(1).map((width, index) => Math.log2(width / (widths[index] as number))), 2);
  const offset = (name: string) => 2 ** (0.05 * gap * (names.indexOf(name) - (names.length - 1) / 2));
  const color = {
    field: 'series',
    type: 'nominal' as const,
    title: null,
    sort: names,
    scale: { domain: names, range: presetColors(names) },
  };
  const panel = (quantity: 'lr' | 'rho', label: string, gridValues: readonly number[]) => {
    const points = series.flatMap((entry) =>
      entry.optima.flatMap((optimum) => {
        const log2 = quantity === 'lr' ? optimum.log2Lr : optimum.log2Rho;
        const interval = quantity === 'lr' ? optimum.log2LrInterval : optimum.log2RhoInterval;
        if (log2 === null || interval === null) return [];
        const finite = Number.isFinite(interval.low) && Number.isFinite(interval.high);
        return [
          {
            series: entry.name,
            widthMult: optimum.widthMult,
            x: optimum.widthMult * offset(entry.name),
            value: 2 ** log2,
            low: 2 ** (finite ? interval.low : log2),
            high: 2 ** (finite ? interval.high : log2),
          },
        ];
      }),
    );
    if (points.length === 0) return [];
    const values = [...gridValues, ...points.flatMap((point) => [point.low, point.high])].filter((v) => v > 0);
    const ticks = [...new Set(gridValues)].filter((value) => value > 0).sort((a, b) => a - b);
    const x = {
      field: 'x',
      type: 'quantitative' as const,
      title: 'width multiplier',
      scale: { type: 'log' as const, base: 2, nice: false, padding: 16 },
      axis: { values: widths, labelExpr: "'×' + datum.value", grid: false },
    };
    const y = {
      field: 'value',
      type: 'quantitative' as const,
      title: label,
      scale: {
        type: 'log' as const,
        base: 2,
        nice: false,
        padding: 12,
        domain: [Math.min(...values), Math.max(...values)],
      },
      axis: ticks.length > 0 ? { values: ticks, format: '~g' } : { format: '~g' },
    };
    return [
      {
        width: 250,
        height: 200,
        data: { values: points },
        layer: [
          {
            mark: { type: 'rule' as const, strokeWidth: 1.5, opacity: 0.6 },
            encoding: { x, y: { ...y, field: 'low' }, y2: { field: 'high' }, color },
          },
          {
            mark: { type: 'line' as const, point: { size: 60, filled: true }, strokeWidth: 2, opacity: 0.9 },
            encoding: { x, y, color },
          },
        ],
      },
    ];
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: title,
      subtitle: [
        ...subtitle,
        'the smoothed optimum per width; bars: 90% bootstrap interval over seeds; flat lines: the optimum transfers',
      ],
    },
    hconcat: [...panel('lr', 'optimal learning rate η*', grid.lrs), ...panel('rho', 'optimal radius ρ*', grid.rhos)],
    resolve: { scale: { color: 'shared' } },
    config: CHART_CONFIG,
  };
}
