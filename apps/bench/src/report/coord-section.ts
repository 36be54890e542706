import { coordChart, slopeTable } from '@mup2/coord';
import type { TopLevelSpec } from 'vega-lite';
import { compactJson } from './compact-json.js';
import { escapeHtml } from './html-escape.js';
import { htmlTable } from './html-table.js';
import type { CoordContents } from './read-results-folder.js';
import { renderMarkdown } from './render-markdown.js';
import type { ReportSection } from './report-section.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** coord.json's step times (bench perf's ModelPerf shape), as a table; '' when it has none. */
function perfTable(perf: unknown): string {
  if (!isRecord(perf) || !Array.isArray(perf.steps)) return '';
  const steps = perf.steps.filter(isRecord);
  const number = (value: unknown, digits: number) => (typeof value === 'number' ? value.toFixed(digits) : '–');
  return (
    `<p>Step time${typeof perf.label === 'string' ? `, ${escapeHtml(perf.label)}` : ''}` +
    `${typeof perf.batch === 'number' ? `, batch ${perf.batch}` : ''}` +
    `${typeof perf.tensorGrowthPerStep === 'number' ? `; tensor growth per step ${perf.tensorGrowthPerStep}` : ''}:</p>` +
    htmlTable(
      ['step', 'ms', 'ratio to SGD'],
      steps.map((step) => [String(step.step ?? ''), number(step.milliseconds, 1), number(step.overSgd, 2)]),
      [false, true, true],
    )
  );
}

/** The coordinate check: its config, the effect-against-width plot and the table of log-log slopes. */
export function coordSection(coord: CoordContents): ReportSection {
  const rule = isRecord(coord.config) && typeof coord.config.rule === 'string' ? coord.config.rule : 'sam';
  return {
    id: 'coord',
    title: 'Perturbation coordinate check',
    blocks: [
      {
        html:
          '<p>Each layer’s effective perturbation (RMS of ε·x) against width, and the slope of its log against log width: ' +
          '≈ 0 means the layer is perturbed effectively at every width (docs/coordinate-check.md).' +
          `${coord.backend ? ` Backend ${escapeHtml(coord.backend)}.` : ''}</p>` +
          `<pre class="config">${escapeHtml(compactJson(coord.config ?? {}))}</pre>`,
      },
      {
        figure: {
          slug: 'coord',
          title: 'Effective perturbation against width',
          caption: 'One panel per preset, one line per layer, log-log axes.',
          spec: coordChart(coord, {
            title: `Effective perturbation of ${rule.toUpperCase()} against width`,
          }) as unknown as TopLevelSpec,
        },
      },
      { html: `<p>Log-log slope per group of layers:</p>${renderMarkdown(slopeTable(coord))}` },
      { html: perfTable(coord.perf) },
    ],
  };
}
