import { compactJson } from './compact-json.js';
import { escapeHtml } from './html-escape.js';
import type { TableContents } from './read-results-folder.js';
import { renderMarkdown } from './render-markdown.js';
import type { ReportSection } from './report-section.js';

const TITLES: Record<TableContents['command'], string> = {
  table2: 'Table 2: SGD, SAM, SAM-ON and ASAM in SP and µP²',
  perf: 'Step time (perf)',
};

/**
 * table2.json or perf.json: the command's Markdown as HTML tables, below the
 * config (or options) and backend that produced it. Without Markdown, the JSON itself.
 */
export function tableSection(table: TableContents): ReportSection {
  const { json } = table;
  const config = json.config ?? json.options;
  const backend = typeof json.backend === 'string' ? `<p>Backend ${escapeHtml(json.backend)}.</p>` : '';
  const settings = config === undefined ? '' : `<pre class="config">${escapeHtml(compactJson(config))}</pre>`;
  const body =
    table.markdown !== undefined
      ? renderMarkdown(table.markdown)
      : `<p>No ${table.command}.md beside ${table.command}.json; its content:</p><pre>${escapeHtml(compactJson(json))}</pre>`;
  return { id: table.command, title: TITLES[table.command], blocks: [{ html: `${backend}${settings}${body}` }] };
}
