import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { makeDirectory, writeFileAtomically } from '@mup2/model-zoo';
import { renderChart } from '../plot/render-chart.js';
import { coordSection } from './coord-section.js';
import { escapeHtml } from './html-escape.js';
import { pngSize } from './png-size.js';
import { type ResultsFolder, readResultsFolder } from './read-results-folder.js';
import { readRightPanelRows } from './read-right-panel.js';
import { reportPage } from './report-page.js';
import type { ReportFigure, ReportSection } from './report-section.js';
import { sweepSection } from './sweep-section.js';
import { tableSection } from './table-section.js';

export const FIGURES_DIR = 'report-figures';
export const REPORT_FILE = 'report.html';

export interface RenderedFigure {
  readonly slug: string;
  readonly title: string;
  readonly svg: string;
  readonly png: string;
  /** Pixel size of the PNG (rendered at twice the SVG's size). */
  readonly width: number;
  readonly height: number;
}

export interface BuiltReport {
  readonly html: string;
  readonly figures: RenderedFigure[];
  readonly folder: ResultsFolder;
}

function filesSection(folder: ResultsFolder): ReportSection {
  const list = (items: readonly string[]) =>
    `<ul>${items.map((item) => `<li><code>${escapeHtml(item)}</code></li>`).join('')}</ul>`;
  const parts = [`<p>Read:</p>${list(folder.read)}`];
  if (folder.unreadable.length > 0) {
    parts.push(
      `<p>Could not read:</p><ul>${folder.unreadable
        .map((entry) => `<li><code>${escapeHtml(entry.file)}</code>: ${escapeHtml(entry.reason)}</li>`)
        .join('')}</ul>`,
    );
  }
  if (folder.unknown.length > 0) parts.push(`<p>Not recognised (not shown):</p>${list(folder.unknown)}`);
  return { id: 'files', title: 'Files in this folder', blocks: [{ html: parts.join('\n') }] };
}

function figureHtml(figure: ReportFigure, rendered: RenderedFigure, png: Buffer, dir: string): string {
  const link = (path: string, label: string) => `<a href="${escapeHtml(relative(dir, path))}">${label}</a>`;
  return (
    `<figure id="${escapeHtml(figure.slug)}">` +
    `<img src="data:image/png;base64,${png.toString('base64')}" width="${Math.round(rendered.width / 2)}" ` +
    `height="${Math.round(rendered.height / 2)}" alt="${escapeHtml(figure.title)}">` +
    `<figcaption><strong>${escapeHtml(figure.title)}.</strong> ${escapeHtml(figure.caption)} ` +
    `(${link(rendered.svg, 'SVG')}, ${link(rendered.png, 'PNG')})</figcaption></figure>`
  );
}

/**
 * Renders every figure of a results folder to `report-figures/<slug>.svg` and
 * `.png` and writes `report.html`: one page with every figure (as PNG data
 * URIs) and table, each beside the grid or config that produced it.
 */
export async function buildReport(dir: string, onFigure?: (figure: RenderedFigure) => void): Promise<BuiltReport> {
  const folder = await readResultsFolder(dir);
  const rightPanel = folder.sweep ? await readRightPanelRows(dir) : [];
  const sections: ReportSection[] = [
    ...(folder.sweep ? [sweepSection(folder.sweep, 'sweep', rightPanel)] : []),
    ...(folder.coord ? [coordSection(folder.coord)] : []),
    ...folder.tables.map(tableSection),
    filesSection(folder),
  ];
  const figuresDir = join(dir, FIGURES_DIR);
  await makeDirectory(figuresDir, 'the results it reports on are unchanged; rerun once there is room');
  const figures: RenderedFigure[] = [];
  const htmlSections: { id: string; title: string; html: string }[] = [];
  for (const section of sections) {
    const parts: string[] = [];
    for (const block of section.blocks) {
      if ('html' in block) {
        parts.push(block.html);
        continue;
      }
      const paths = await renderChart(block.figure.spec, join(figuresDir, block.figure.slug));
      const png = await readFile(paths.png);
      const rendered = { slug: block.figure.slug, title: block.figure.title, ...paths, ...pngSize(png) };
      figures.push(rendered);
      onFigure?.(rendered);
      parts.push(figureHtml(block.figure, rendered, png, dir));
    }
    htmlSections.push({ id: section.id, title: section.title, html: parts.join('\n') });
  }
  const html = join(dir, REPORT_FILE);
  await writeFileAtomically(
    html,
    reportPage({ folder: dir, generated: new Date(), sections: htmlSections }),
    'the results it reports on are unchanged; rerun once there is room',
  );
  return { html, figures, folder };
}
