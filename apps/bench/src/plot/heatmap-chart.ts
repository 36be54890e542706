import type { TopLevelSpec } from 'vega-lite';
import { CHART_CONFIG, gridIndexAxis } from './chart-config.js';
import { byNameOrder, type GridPoint, PRESET_ORDER } from './sweep-aggregate.js';

/** One side of a grid cell in index space: a piece of the outline of the near-optimal region. */
export interface OutlineEdge {
  readonly x: number;
  readonly x2: number;
  readonly y: number;
  readonly y2: number;
}

/**
 * The boundary of a set of grid cells (i, j) in index space, where cell (i, j)
 * spans [i − ½, i + ½] × [j − ½, j + ½]: every side a cell of the set shares
 * with a cell outside it (or with no cell). Drawn, it outlines the region rather
 * than each cell.
 */
export function regionOutline(cells: readonly (readonly [number, number])[]): OutlineEdge[] {
  const inside = new Set(cells.map(([i, j]) => `${i},${j}`));
  const edges: OutlineEdge[] = [];
  for (const [i, j] of cells) {
    if (!inside.has(`${i - 1},${j}`)) edges.push({ x: i - 0.5, x2: i - 0.5, y: j - 0.5, y2: j + 0.5 });
    if (!inside.has(`${i + 1},${j}`)) edges.push({ x: i + 0.5, x2: i + 0.5, y: j - 0.5, y2: j + 0.5 });
    if (!inside.has(`${i},${j - 1}`)) edges.push({ x: i - 0.5, x2: i + 0.5, y: j - 0.5, y2: j - 0.5 });
    if (!inside.has(`${i},${j + 1}`)) edges.push({ x: i - 0.5, x2: i + 0.5, y: j + 0.5, y2: j + 0.5 });
  }
  return edges;
}

const sortedUnique = (values: readonly number[]) => [...new Set(values)].sort((a, b) => a - b);

/**
 * The paper's Figure 1 heatmaps: mean test accuracy over the η × ρ grid, one
 * panel per preset (rows) × width (columns), η and ρ as evenly spaced bands
 * labelled with their values; the optimum marked '×', the region within one
 * point of it outlined, accuracy below 30% grey as unstable.
 * `points` are one rule of one experiment (aggregateSweep's points, filtered).
 */
export function heatmapChart(
  points: readonly GridPoint[],
  title: string,
  subtitle: readonly string[] = [],
): TopLevelSpec {
  const lrs = sortedUnique(points.map((point) => point.lr));
  const rhos = sortedUnique(points.map((point) => point.rho));
  const presets = [...new Set(points.map((point) => point.preset))].sort(byNameOrder(PRESET_ORDER));
  const cells = points.map((point) => {
    const i = lrs.indexOf(point.lr);
    const j = rhos.indexOf(point.rho);
    return {
      kind: 'cell',
      preset: point.preset,
      widthMult: point.widthMult,
      i,
      j,
      x: i - 0.5,
      x2: i + 0.5,
      y: j - 0.5,
      y2: j + 0.5,
      lr: point.lr,
      rho: point.rho,
      accuracy: point.meanAccuracy,
      unstable: point.unstable,
      nearOptimum: point.nearOptimum,
      optimum: point.optimum,
    };
  });
  const panels = new Map<string, typeof cells>();
  for (const cell of cells) {
    const key = JSON.stringify([cell.preset, cell.widthMult]);
    panels.set(key, [...(panels.get(key) ?? []), cell]);
  }
  const outline = [...panels.values()].flatMap((panel) => {
    const near = panel.filter((cell) => cell.nearOptimum);
    const { preset, widthMult } = panel[0]!;
    return regionOutline(near.map((cell) => [cell.i, cell.j] as const)).map((edge) => ({
      kind: 'edge',
      preset,
      widthMult,
      ...edge,
    }));
  });
  const allUnstable = points.every((point) => point.unstable);
  const xAxis = gridIndexAxis(lrs, 'learning rate η');
  const yAxis = gridIndexAxis(rhos, 'radius ρ');
  const x = { type: 'quantitative' as const, ...xAxis };
  const y = { type: 'quantitative' as const, ...yAxis };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: title,
      subtitle: [
        ...subtitle,
        '× optimum · outlined: within 1 point of the optimum · grey: accuracy < 30% (unstable) · mean over seeds',
        ...(allUnstable ? ['every cell is below 30%: nothing trained stably'] : []),
      ],
    },
    data: { values: [...cells, ...outline] },
    facet: {
      row: {
        field: 'preset',
        type: 'nominal',
        title: null,
        sort: presets,
        header: { labelAngle: 0, labelAlign: 'left', labelFontWeight: 'bold' },
      },
      column: {
        field: 'widthMult',
        type: 'ordinal',
        title: 'width multiplier',
        sort: 'ascending',
        header: { labelExpr: "'×' + datum.value" },
      },
    },
    spec: {
      width: Math.max(100, 40 * lrs.length),
      height: Math.max(90, 28 * rhos.length),
      layer: [
        {
          transform: [{ filter: "datum.kind === 'cell' && !datum.unstable" }],
          mark: { type: 'rect' },
          encoding: {
            x: { field: 'x', ...x },
            x2: { field: 'x2' },
            y: { field: 'y', ...y },
            y2: { field: 'y2' },
            color: {
              field: 'accuracy',
              type: 'quantitative',
              title: 'test accuracy',
              scale: { scheme: 'viridis' },
              // With every cell unstable the colour scale has no data, and its legend would read NaN.
              legend: allUnstable ? null : { format: '.0%', gradientLength: 120 },
            },
          },
        },
        {
          transform: [{ filter: "datum.kind === 'cell' && datum.unstable" }],
          mark: { type: 'rect', color: '#c8c8c8' },
          encoding: { x: { field: 'x', ...x }, x2: { field: 'x2' }, y: { field: 'y', ...y }, y2: { field: 'y2' } },
        },
        {
          transform: [{ filter: "datum.kind === 'edge'" }],
          mark: { type: 'rule', color: '#d62728', strokeWidth: 2.5, strokeCap: 'square' },
          encoding: { x: { field: 'x', ...x }, x2: { field: 'x2' }, y: { field: 'y', ...y }, y2: { field: 'y2' } },
        },
        {
          transform: [
            { filter: "datum.kind === 'cell' && datum.optimum" },
            { calculate: '(datum.x + datum.x2) / 2', as: 'cx' },
            { calculate: '(datum.y + datum.y2) / 2', as: 'cy' },
          ],
          mark: {
            type: 'text',
            text: '×',
            fontSize: 18,
            fontWeight: 'bold',
            color: '#000',
            baseline: 'middle',
            align: 'center',
          },
          encoding: { x: { field: 'cx', ...x }, y: { field: 'cy', ...y } },
        },
      ],
    },
    resolve: { scale: { color: 'shared' } },
    config: CHART_CONFIG,
  };
}
