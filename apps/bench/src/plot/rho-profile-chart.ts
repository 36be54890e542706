import type { TopLevelSpec } from 'vega-lite';
import type { RightPanelLine } from '../experiments/figure1-right-panel.js';
import { CHART_CONFIG, presetColors } from './chart-config.js';

/**
 * The paper's Figure 1, right panel: test accuracy against ρ at each preset's optimal η, at one
 * width (the widest), mean ± std over seeds as a band; the lines whose only radius is 0 (SGD in SP
 * and µP) are dashed horizontal baselines. ρ is on a log axis.
 */
export function rhoProfileChart(
  lines: readonly RightPanelLine[],
  widthMult: number,
  title: string,
  subtitle: readonly string[] = [],
): TopLevelSpec {
  const label = (line: RightPanelLine) => {
    const seeds = [...new Set(line.points.map((point) => point.seeds))];
    return `${line.name} (η = ${line.lr}, ${seeds.join('/')} seeds)`;
  };
  const curves = lines.filter((line) => line.points.some((point) => point.rho > 0));
  const baselines = lines.filter((line) => !curves.includes(line) && line.points.length > 0);
  const profile = curves.flatMap((line) =>
    line.points
      .filter((point) => point.rho > 0)
      .map((point) => ({
        series: label(line),
        rho: point.rho,
        accuracy: point.mean,
        low: point.mean - point.std,
        high: point.mean + point.std,
      })),
  );
  const flat = baselines.map((line) => ({ series: label(line), accuracy: line.points[0]?.mean ?? 0 }));
  const series = [...curves, ...baselines].map(label);
  const color = {
    field: 'series',
    type: 'nominal' as const,
    title: null,
    scale: { domain: series, range: presetColors([...curves, ...baselines].map((line) => line.name)) },
    legend: { labelLimit: 300, symbolType: 'stroke', symbolStrokeWidth: 3, symbolOpacity: 1, symbolSize: 300 },
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
        `width ×${widthMult}, each preset at its optimal η; dashed: SGD at its optimal η; band: ± std over seeds`,
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
        data: { values: flat },
        mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 2 },
        encoding: { y: { field: 'accuracy', type: 'quantitative' }, color },
      },
    ],
    config: CHART_CONFIG,
  };
}
