import type { TopLevelSpec } from 'vega-lite';
import type { CoordRow } from '../coord/run-coord-check.js';

/** Effective perturbation against width on log-log axes, one panel per preset, one line per layer. */
export function coordChart(rows: readonly CoordRow[], title: string): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values: rows.map((row) => ({ ...row })) },
    facet: {
      column: { field: 'preset', type: 'nominal', title: null, sort: [...new Set(rows.map((row) => row.preset))] },
    },
    spec: {
      width: 220,
      height: 200,
      layer: [
        {
          mark: { type: 'line', point: true },
          encoding: {
            x: {
              field: 'width',
              type: 'quantitative',
              scale: { type: 'log', base: 2, nice: false, padding: 10 },
              axis: { values: [...new Set(rows.map((row) => row.width))] },
              title: 'width n',
            },
            y: {
              field: 'effect',
              type: 'quantitative',
              scale: { type: 'log' },
              title: 'effective perturbation (RMS of ε·x)',
            },
            color: { field: 'layer', type: 'nominal', title: 'layer' },
          },
        },
      ],
    },
    config: { font: 'DejaVu Sans' },
  };
}
