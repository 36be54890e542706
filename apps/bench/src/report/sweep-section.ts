import { figure1Optima } from '../experiments/figure1-optima.js';
import { accuracyTable, panelLrs } from '../experiments/figure1-printout.js';
import { rightPanelLines } from '../experiments/figure1-right-panel.js';
import { optimaTable, transferVerdict } from '../experiments/figure1-tables.js';
import { INTERVAL_LEVEL, SMOOTHING_SIGMA_STEPS } from '../experiments/optimum-statistics.js';
import { formatGridValue } from '../plot/chart-config.js';
import { heatmapChart } from '../plot/heatmap-chart.js';
import { rhoProfileChart } from '../plot/rho-profile-chart.js';
import { ruleComparisonChart } from '../plot/rule-comparison-chart.js';
import { aggregateSweep, byNameOrder, experimentLabel, type GridPoint, RULE_ORDER } from '../plot/sweep-aggregate.js';
import { transferChart } from '../plot/transfer-chart.js';
import { expandGrid, parseGrid, type SweepGridInput } from '../sweep/grid.js';
import type { SweepRow } from '../sweep/results-log.js';
import { compactJson } from './compact-json.js';
import { escapeHtml } from './html-escape.js';
import { htmlTable } from './html-table.js';
import type { SweepContents } from './read-results-folder.js';
import { renderMarkdown } from './render-markdown.js';
import type { ReportBlock, ReportSection } from './report-section.js';

const percent = (value: number) => `${(100 * value).toFixed(2)}%`;

/** For rule 'sgd' the SGD series alone; for a perturbation rule every series. */
const shownSeries = <T extends { name: string }>(series: readonly T[], rule: string) =>
  series.filter((entry) => rule !== 'sgd' || entry.name.startsWith('SGD'));

function bestCellTable(optima: readonly GridPoint[]): string {
  return htmlTable(
    ['preset', 'width', 'η*', 'ρ*', 'test accuracy (mean ± std)', 'train accuracy (mean)', 'seeds', 'diverged'],
    optima.map((point) => [
      point.preset,
      `×${point.widthMult}`,
      formatGridValue(point.lr),
      point.fromSgd ? '0 (SGD)' : formatGridValue(point.rho),
      `${percent(point.meanAccuracy)} ± ${percent(point.stdAccuracy)}`,
      point.meanTrainAccuracy === null ? '–' : percent(point.meanTrainAccuracy),
      String(point.seeds),
      String(point.diverged),
    ]),
    [false, true, true, true, true, true, true, true],
  );
}

/** How many cells grid.json's grid has, or undefined when it is missing or does not parse. */
function gridCellCount(grid: unknown): number | undefined {
  if (grid === undefined) return undefined;
  try {
    return expandGrid(parseGrid(grid as SweepGridInput)).length;
  } catch {
    return undefined;
  }
}

/** Whether the rows are all of the grid, and whether a sweep was still writing them. */
function completeness(sweep: SweepContents): string {
  const total = gridCellCount(sweep.grid);
  const cellIds = new Set(sweep.rows.map((row) => row.cellId));
  const parts: string[] = [];
  if (total !== undefined && cellIds.size < total) {
    parts.push(
      `<strong>Partial: ${cellIds.size.toLocaleString('en')} of the grid’s ${total.toLocaleString('en')} cells.</strong>`,
    );
  }
  if (sweep.lock?.alive)
    parts.push(`A sweep (pid ${sweep.lock.pid}) was still writing to this folder when this report was made.`);
  else if (sweep.lock)
    parts.push('The folder holds the lock of a sweep that is no longer running (stopped before it finished).');
  return parts.length > 0 ? `<p>${parts.join(' ')}</p>` : '';
}

/**
 * The sweep part of the report: its grid, a count of the rows, and per
 * experiment and rule the Figure-1 heatmaps, the optima with their bootstrap
 * intervals and drifts against width (table and transfer plot), accuracy
 * against ρ at the widest width with SGD baselines (with `extraRows`, the
 * right panel's extra seeds, when a Figure 1 run has them) and the table of
 * best cells; per experiment the rule × preset comparison at the widest width;
 * failed cells.
 */
export function sweepSection(
  sweep: SweepContents,
  slugPrefix = 'sweep',
  extraRows: readonly SweepRow[] = [],
): ReportSection {
  const blocks: ReportBlock[] = [];
  const html = (text: string) => blocks.push({ html: text });
  const aggregate = aggregateSweep(sweep.rows);
  const count = (status: string) => sweep.rows.filter((row) => row.status === status).length;
  const backends = [...new Set(sweep.rows.map((row) => row.backend).filter((backend) => backend))];
  const seconds = sweep.rows.reduce((sum, row) => sum + (row.seconds ?? 0), 0);
  html(
    `<p>${sweep.rows.length} finished cell${sweep.rows.length === 1 ? '' : 's'} in results.jsonl: ${count('ok')} ok, ` +
      `${count('diverged')} diverged, ${count('failed')} failed` +
      (backends.length > 0 ? `; backend ${escapeHtml(backends.join(', '))}` : '') +
      `; ${seconds.toFixed(0)} s of training in all.` +
      (sweep.skippedLines.length > 0
        ? ` Skipped results.jsonl line${sweep.skippedLines.length === 1 ? '' : 's'} ${sweep.skippedLines.join(', ')} (not a result row).`
        : '') +
      ` Accuracy is the final test accuracy, averaged over seeds; a diverged run counts as its accuracy, 0; failed cells enter no average.` +
      ' Train accuracy is measured on the training split at the final weights.' +
      (sweep.rows.some((row) => row.config.rule === 'sgd') && sweep.rows.some((row) => row.config.rule !== 'sgd')
        ? ' The SGD runs are also each rule’s ρ = 0 row: SAM at ρ = 0 takes exactly the base optimizer’s step.'
        : '') +
      '</p>' +
      completeness(sweep),
  );
  html(
    sweep.grid === undefined
      ? '<p>No grid.json in this folder: the grid below is what the rows cover.</p>'
      : `<h3>Grid${sweep.gridHash ? ` <code>${escapeHtml(sweep.gridHash.slice(0, 16))}</code>` : ''}</h3>` +
          `<pre class="config">${escapeHtml(compactJson(sweep.grid))}</pre>`,
  );

  aggregate.experiments.forEach((experiment, experimentIndex) => {
    const points = aggregate.points.filter((point) => point.experiment === experiment);
    const optima = aggregate.optima.filter((point) => point.experiment === experiment);
    const rules = [...new Set(points.map((point) => point.rule))].sort(byNameOrder(RULE_ORDER));
    html(`<h3>${escapeHtml(experiment)}</h3>`);
    const slug = (name: string) => `${slugPrefix}-${experimentIndex + 1}-${name}`;
    for (const rule of rules) {
      const rulePoints = points.filter((point) => point.rule === rule);
      const ruleOptima = optima.filter((point) => point.rule === rule);
      const widths = [...new Set(rulePoints.map((point) => point.widthMult))].sort((a, b) => a - b);
      const widest = widths[widths.length - 1]!;
      const name = rule.toUpperCase();
      // SGD (and a sweep at ρ = 0 only) has no radius to show.
      const hasRadius = rulePoints.some((point) => point.rho !== 0);
      const grid = hasRadius ? 'η × ρ' : 'η';
      const optimum = hasRadius ? 'optimal η and ρ' : 'optimal η';
      html(`<h4>Rule ${escapeHtml(rule)}</h4>`);
      blocks.push({
        figure: {
          slug: slug(`${rule}-heatmap`),
          title: `${name}: test accuracy over ${grid}`,
          caption: `Mean test accuracy over the ${grid} grid, one panel per preset and width (${experiment}).`,
          spec: heatmapChart(
            rulePoints,
            hasRadius
              ? `${name}: test accuracy over learning rate η × radius ρ`
              : `${name}: test accuracy over learning rate η`,
            [experiment],
          ),
        },
      });
      const experimentRows = sweep.rows.filter((row) => experimentLabel(row.config) === experiment);
      const allRows = [...experimentRows, ...extraRows.filter((row) => experimentLabel(row.config) === experiment)];
      const statistics = widths.length >= 2 ? figure1Optima(experimentRows, rule) : undefined;
      if (statistics !== undefined) {
        const shown = shownSeries(statistics.series, rule);
        blocks.push({
          figure: {
            slug: slug(`${rule}-transfer`),
            title: `${name}: ${optimum} against width`,
            caption:
              'The optimum of each preset (and of SGD in SP and µP) at each width, with its 90% bootstrap interval over seeds; a flat line means the optimum transfers from narrow to wide.',
            spec: transferChart(shown, `${name}: ${optimum} against width`, [experiment], {
              lrs: rulePoints.map((point) => point.lr),
              rhos: rulePoints.map((point) => point.rho),
            }),
          },
        });
      }
      if (
        rule !== 'sgd' &&
        statistics !== undefined &&
        rulePoints.some((point) => point.widthMult === widest && point.rho > 0)
      ) {
        const lines = rightPanelLines(allRows, widest, panelLrs(statistics, allRows, widest), rule);
        blocks.push({
          figure: {
            slug: slug(`${rule}-rho-profile`),
            title: `${name}: test accuracy against ρ at width ×${widest}`,
            caption:
              'The paper’s Figure 1 right panel: at the widest width, each preset at its optimal η; SGD at its optimal η in SP and in µP as dashed lines (when the sweep ran rule sgd); the legend counts the seeds.',
            spec: rhoProfileChart(lines, widest, `${name}: test accuracy against ρ at the optimal η`, [experiment]),
          },
        });
      }
      if (statistics !== undefined) {
        const level = `${Math.round(100 * INTERVAL_LEVEL)}%`;
        html(
          renderMarkdown(
            [
              `Optima of ${rule} per width: the maximum of the seed-mean test accuracy surface over log2 η × log2 ρ, ` +
                `smoothed with a Gaussian of ${SMOOTHING_SIGMA_STEPS} grid step and located between grid points, ` +
                `with a ${level} interval from resampling the ${statistics.seeds.length} seeds; the last column is the ` +
                'least-squares drift of log2 of the optimum per doubling of width.',
              '',
              ...(hasRadius ? ['ρ*:', '', optimaTable(statistics.series, 'rho'), ''] : []),
              'η*:',
              '',
              optimaTable(shownSeries(statistics.series, rule), 'lr'),
              '',
              ...(hasRadius ? [...transferVerdict(statistics), ''] : []),
              'Test accuracy % ± std over seeds (train accuracy %) at the grid cell nearest each optimum:',
              '',
              accuracyTable(statistics, experimentRows, rule),
            ].join('\n'),
          ),
        );
      }
      html(
        `<p>The best grid cell of ${escapeHtml(rule)} per preset and width (unsmoothed):</p>${bestCellTable(ruleOptima)}`,
      );
    }
    const widest = Math.max(...optima.map((point) => point.widthMult));
    const atWidest = optima.filter((point) => point.widthMult === widest);
    if (atWidest.length >= 2) {
      blocks.push({
        figure: {
          slug: slug('rule-comparison'),
          title: `Rules and presets at width ×${widest}`,
          caption:
            'Table 2 as a chart: every rule × preset at its best (η, ρ) at the widest width, mean ± std over seeds.',
          spec: ruleComparisonChart(atWidest, `Best test accuracy per rule and preset at width ×${widest}`, [
            experiment,
          ]),
        },
      });
    }
  });

  if (aggregate.failed.length > 0) {
    html(
      `<h3>Failed cells</h3>${htmlTable(
        ['cell', 'rule', 'preset', 'width', 'η', 'ρ', 'seed', 'error'],
        aggregate.failed.map((row) => [
          row.cellId,
          row.config.rule,
          row.config.preset,
          `×${row.config.widthMult}`,
          formatGridValue(row.config.lr),
          formatGridValue(row.config.rho),
          String(row.seed),
          row.error ?? '',
        ]),
        [false, false, false, true, true, true, true, false],
      )}`,
    );
  }
  return { id: slugPrefix, title: 'Sweep: η × ρ × width', blocks };
}
