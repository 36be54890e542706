import type { TopLevelSpec } from 'vega-lite';
import { CHART_CONFIG, presetColors } from './chart-config.js';
import { byNameOrder, type GridPoint, PRESET_ORDER, RULE_ORDER } from './sweep-aggregate.js';

/**
 * Table 2 as a chart: for each rule × preset, the mean ± std over seeds of the
 * test accuracy at its best (η, ρ). Points with error bars rather than bars:
 * the differences are fractions of a point, which bars from zero would hide.
 * `optima` are one width of one experiment.
 */
export function ruleComparisonChart(
  optima: readonly GridPoint[],
  title: string,
  subtitle: readonly string[] = [],
): TopLevelSpec {
  const rules = [...new Set(optima.map((point) => point.rule))].sort(byNameOrder(RULE_ORDER));
  const presets = [...new Set(optima.map((point) => point.preset))].sort(byNameOrder(PRESET_ORDER));
  const values = optima.map((point) => ({
    rule: point.rule,
    preset: point.preset,
    accuracy: point.meanAccuracy,
    low: point.meanAccuracy - point.stdAccuracy,
    high: point.meanAccuracy + point.stdAccuracy,
    seeds: point.seeds,
  }));
  const x = { field: 'rule', type: 'nominal' as const, sort: rules, title: 'rule', axis: { labelAngle: 0 } };
  const xOffset = { field: 'preset', type: 'nominal' as const, sort: presets };
  const color = {
    field: 'preset',
    type: 'nominal' as const,
    sort: presets,
    title: 'preset',
    scale: { domain: presets, range: presetColors(presets) },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle: [...subtitle, 'mean ± std over seeds at each one’s best (η, ρ)'] },
    data: { values },
    width: Math.max(240, rules.length * Math.max(90, 24 * presets.length)),
    height: 240,
    layer: [
      {
        mark: { type: 'rule', strokeWidth: 2 },
        encoding: { x, xOffset, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' }, color },
      },
      {
        mark: { type: 'point', filled: true, size: 70 },
        encoding: {
          x,
          xOffset,
          y: {
            field: 'accuracy',
            type: 'quantitative',
            title: 'test accuracy',
            scale: { zero: false, padding: 10 },
            axis: { format: '.1%' },
          },
          color,
        },
      },
    ],
    config: CHART_CONFIG,
  };
}
