import type { TopLevelSpec } from 'vega-lite';
import { CHART_CONFIG, presetColors } from './chart-config.js';
import { byNameOrder, type GridPoint, PRESET_ORDER } from './sweep-aggregate.js';

/** A dashed horizontal reference line: SGD's best accuracy in one parameterization. */
export interface AccuracyBaseline {
  readonly label: string;
  readonly accuracy: number;
}

/**
 * The paper's Figure 1, right panel: test accuracy against ρ at each preset's
 * optimal η, for one width (the widest), with SGD baselines as dashed lines.
 * `points` are one rule of one experiment; the profile of a preset is its
 * points at `widthMult` and the η of its optimum there. ρ is on a log axis, so
 * a ρ = 0 point is left out.
 */
export function rhoProfileChart(
  points: readonly GridPoint[],
  widthMult: number,
  baselines: readonly AccuracyBaseline[],
  title: string,
  subtitle: readonly string[] = [],
): TopLevelSpec {
  const atWidth = points.filter((point) => point.widthMult === widthMult);
  const presets = [...new Set(atWidth.map((point) => point.preset))].sort(byNameOrder(PRESET_ORDER));
  const profile = presets.flatMap((preset) => {
    const optimum = atWidth.find((point) => point.preset === preset && point.optimum);
    if (!optimum) return [];
    return atWidth
      .filter((point) => point.preset === preset && point.lr === optimum.lr && point.rho > 0)
      .map((point) => ({
        series: `${preset} (η = ${point.lr})`,
        preset,
        rho: point.rho,
        accuracy: point.meanAccuracy,
        low: point.meanAccuracy - point.stdAccuracy,
        high: point.meanAccuracy + point.stdAccuracy,
      }));
  });
  const series = [...new Set(profile.map((entry) => entry.series))];
  const presetOfSeries = series.map((name) => profile.find((entry) => entry.series === name)!.preset);
  const baselineSeries = baselines.map((baseline) => baseline.label);
  const grey = ['#555555', '#999999', '#bbbbbb'];
  const colorRange = [...presetColors(presetOfSeries), ...baselineSeries.map((_, index) => grey[index % grey.length]!)];
  const colorScale = { domain: [...series, ...baselineSeries], range: colorRange };
  const color = {
    field: 'series',
    type: 'nominal' as const,
    title: null,
    scale: colorScale,
    legend: { labelLimit: 260, symbolType: 'stroke', symbolStrokeWidth: 3, symbolOpacity: 1, symbolSize: 300 },
  };
  const rhos = [...new Set(profile.map((entry) => entry.rho))].sort((a, b) => a - b);
  const x = {
    field: 'rho',
    type: 'quantitative' as const,
    title: 'perturbation radius ρ',
    scale: { type: 'log' as const, nice: false, padding: 16 },
    axis: { values: rhos, format: '~g', grid: false },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: title,
      subtitle: [
        ...subtitle,
        `width ×${widthMult}, each preset at its optimal η; dashed: SGD at its best η; band: ± std over seeds`,
      ],
    },
    width: 380,
    height: 260,
    layer: [
      {
        data: { values: profile },
        mark: { type: 'errorband', opacity: 0.12 },
        encoding: {
          x,
          y: { field: 'low', type: 'quantitative', title: 'test accuracy' },
          y2: { field: 'high' },
          color,
        },
      },
      {
        data: { values: profile },
        mark: { type: 'line', point: { filled: true, size: 50 }, strokeWidth: 2 },
        encoding: {
          x,
          y: {
            field: 'accuracy',
            type: 'quantitative',
            title: 'test accuracy',
            scale: { zero: false },
            axis: { format: '.1%' },
          },
          color,
        },
      },
      {
        data: { values: baselines.map((baseline) => ({ series: baseline.label, accuracy: baseline.accuracy })) },
        mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 2 },
        encoding: { y: { field: 'accuracy', type: 'quantitative' }, color },
      },
    ],
    config: CHART_CONFIG,
  };
}
