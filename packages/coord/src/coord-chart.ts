import type { CoordRow, LayerSlope } from './coord-check.js';
import type { CoordQuantity } from './measure-model.js';

/** A vega-lite specification: plain JSON, rendered by vega-embed in a page or by vega + vega-lite in Node. */
export type VegaLiteSpec = Record<string, unknown>;

export interface CoordChartOptions {
  /** Default 'perturbation'. */
  readonly quantity?: CoordQuantity;
  readonly title?: string;
  /** Colour each line by its layer (default when there are at most 12 layers) or by its group (the rest). */
  readonly color?: 'layer' | 'group';
  /** Size of one panel in pixels. Default 220 × 200. */
  readonly width?: number;
  readonly height?: number;
}

const AXIS_TITLES: Record<CoordQuantity, string> = {
  perturbation: 'effective perturbation (RMS of ε·x)',
  update: 'update effect (RMS of Δw·x)',
  activation: 'pre-activation (RMS of w·x)',
  normTerm: 'normaliser term b·‖N‖²',
};

/**
 * A vega-lite chart of one quantity against width on log-log axes: one panel per preset, one
 * line per layer. The data are inlined, so the spec is self-contained JSON; a flat line is a
 * layer whose quantity does not change with width. Layers whose quantity is round-off
 * (`negligible` in `slopes`) are left out, so they do not stretch the axis.
 */
export function coordChart(
  result: {
    readonly rows: readonly CoordRow[];
    readonly presets: readonly string[];
    readonly slopes?: readonly Pick<LayerSlope, 'preset' | 'layer' | 'quantity' | 'negligible'>[];
  },
  options: CoordChartOptions = {},
): VegaLiteSpec {
  const quantity = options.quantity ?? 'perturbation';
  const negligible = new Set(
    (result.slopes ?? [])
      .filter((slope) => slope.quantity === quantity && slope.negligible)
      .map((slope) => JSON.stringify([slope.preset, slope.layer])),
  );
  const rows = result.rows.filter(
    (row) =>
      row.quantity === quantity &&
      Number.isFinite(row.value) &&
      row.value > 0 &&
      !negligible.has(JSON.stringify([row.preset, row.layer])),
  );
  const layers = new Set(rows.map((row) => row.layer));
  const color = options.color ?? (layers.size <= 12 ? 'layer' : 'group');
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(options.title !== undefined && { title: options.title }),
    data: { values: rows.map((row) => ({ ...row })) },
    facet: { column: { field: 'preset', type: 'nominal', title: null, sort: [...result.presets] } },
    spec: {
      width: options.width ?? 220,
      height: options.height ?? 200,
      mark: { type: 'line', point: true },
      encoding: {
        x: {
          field: 'width',
          type: 'quantitative',
          scale: { type: 'log', base: 2, nice: false, padding: 10 },
          axis: { values: [...new Set(rows.map((row) => row.width))] },
          title: 'width n',
        },
        y: { field: 'value', type: 'quantitative', scale: { type: 'log' }, title: AXIS_TITLES[quantity] },
        color: { field: color, type: 'nominal', title: color },
        detail: { field: 'layer', type: 'nominal' },
        tooltip: [
          { field: 'layer', type: 'nominal' },
          { field: 'group', type: 'nominal' },
          { field: 'width', type: 'quantitative' },
          { field: 'value', type: 'quantitative', format: '.3e' },
        ],
      },
    },
  };
}
