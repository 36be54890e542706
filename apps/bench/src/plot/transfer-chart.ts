import type { TopLevelSpec } from 'vega-lite';
import { CHART_CONFIG, presetColors } from './chart-config.js';
import { byNameOrder, type GridPoint, PRESET_ORDER } from './sweep-aggregate.js';

/** The η and ρ values of the grid, for the axes' ticks and extent (default: the optima's own values). */
export interface GridValues {
  readonly lrs: readonly number[];
  readonly rhos: readonly number[];
}

/**
 * The transfer plot: the optimal η and the optimal ρ of each preset against
 * width, two small panels on log scales with ticks at the grid's values. Under
 * a parameterization whose optimum transfers, both lines are flat. `optima` are
 * one rule of one experiment (aggregateSweep's optima, filtered). Presets are
 * drawn a little apart along the width axis so that equal optima stay visible.
 * Values of 0 (ρ of SGD) cannot sit on a log axis: a panel with none left is
 * dropped, and the subtitle counts what was left out.
 */
export function transferChart(
  optima: readonly GridPoint[],
  title: string,
  subtitle: readonly string[] = [],
  grid: GridValues = { lrs: optima.map((point) => point.lr), rhos: optima.map((point) => point.rho) },
): TopLevelSpec {
  const presets = [...new Set(optima.map((point) => point.preset))].sort(byNameOrder(PRESET_ORDER));
  const widths = [...new Set(optima.map((point) => point.widthMult))].sort((a, b) => a - b);
  // A small offset in log2(width) per preset: a fraction of the narrowest gap between widths.
  const gap = Math.min(...widths.slice(1).map((width, index) => Math.log2(width / widths[index]!)), 2);
  const offset = (preset: string) => 2 ** (0.06 * gap * (presets.indexOf(preset) - (presets.length - 1) / 2));
  const color = {
    field: 'preset',
    type: 'nominal' as const,
    title: 'preset',
    sort: presets,
    scale: { domain: presets, range: presetColors(presets) },
  };
  let dropped = 0;
  const panel = (quantity: 'lr' | 'rho', label: string, values: readonly number[]) => {
    const points = optima
      .map((point) => ({
        preset: point.preset,
        widthMult: point.widthMult,
        x: point.widthMult * offset(point.preset),
        value: point[quantity],
      }))
      .filter((point) => point.value > 0);
    dropped += optima.length - points.length;
    const ticks = [...new Set([...values, ...points.map((point) => point.value)].filter((value) => value > 0))].sort(
      (a, b) => a - b,
    );
    if (points.length === 0) return [];
    return [
      {
        width: 230,
        height: 190,
        data: { values: points },
        mark: { type: 'line' as const, point: { size: 70, filled: true }, strokeWidth: 2, opacity: 0.9 },
        encoding: {
          x: {
            field: 'x',
            type: 'quantitative' as const,
            title: 'width multiplier',
            scale: { type: 'log' as const, base: 2, nice: false, padding: 16 },
            axis: { values: widths, labelExpr: "'×' + datum.value", grid: false },
          },
          y: {
            field: 'value',
            type: 'quantitative' as const,
            title: label,
            scale: { type: 'log' as const, nice: false, padding: 12, domain: [ticks[0]!, ticks[ticks.length - 1]!] },
            axis: { values: ticks, format: '~g' },
          },
          color,
        },
      },
    ];
  };
  const panels = [...panel('lr', 'optimal learning rate η', grid.lrs), ...panel('rho', 'optimal radius ρ', grid.rhos)];
  const zeroNote =
    dropped > 0 ? [`${dropped} optimum value${dropped === 1 ? '' : 's'} at 0 not shown (log scale)`] : [];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle: [...subtitle, 'flat lines: the optimum transfers across width', ...zeroNote] },
    hconcat: panels,
    resolve: { scale: { color: 'shared' } },
    config: CHART_CONFIG,
  };
}
