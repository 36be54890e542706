import type { Config } from 'vega-lite';

/** Shared look of the report's charts: the shipped DejaVu font (render-chart.ts), readable sizes. */
export const CHART_CONFIG: Config = {
  font: 'DejaVu Sans',
  title: { fontSize: 14, subtitleFontSize: 11, subtitleColor: '#444', anchor: 'start', offset: 10 },
  axis: { labelFontSize: 10, titleFontSize: 11 },
  header: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 10, titleFontSize: 11 },
  view: { stroke: '#ccc' },
};

/** A grid value as a short label: 0.001, 0.03, 1e-7. */
export function formatGridValue(value: number): string {
  return String(Number(value.toPrecision(4)));
}

/**
 * An axis for a grid dimension drawn as evenly spaced bands in index space
 * (a log-spaced grid of η or ρ shows as equal steps), labelled with the values.
 * Quantitative in the index, so cell edges and outlines can be placed at i ± 0.5.
 */
export function gridIndexAxis(values: readonly number[], title: string) {
  const labels = values.map(formatGridValue);
  return {
    scale: { domain: [-0.5, values.length - 0.5], nice: false, zero: false },
    axis: {
      title,
      values: values.map((_, index) => index),
      labelExpr: `${JSON.stringify(labels)}[datum.value]`,
      grid: false,
      labelAngle: 0,
      labelOverlap: false,
    },
  };
}

/** One colour per preset in every chart; names outside the paper's five take the spare colours in turn. */
const PRESET_COLORS: Record<string, string> = {
  'sp-naive': '#1f77b4',
  'sp-lp': '#17becf',
  'mup-naive': '#ff7f0e',
  'mup-global': '#9467bd',
  mup2: '#d62728',
  // Figure 1's SGD series (experiments/figure1-optima.ts): greys, as the dashed baselines.
  'SGD SP': '#555555',
  'SGD µP': '#999999',
};
const SPARE_COLORS = ['#2ca02c', '#8c564b', '#e377c2', '#bcbd22', '#7f7f7f'];

/** The colours of `presets`, in their order. */
export function presetColors(presets: readonly string[]): string[] {
  let spare = 0;
  return presets.map((preset) => PRESET_COLORS[preset] ?? SPARE_COLORS[spare++ % SPARE_COLORS.length]!);
}
