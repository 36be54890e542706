import { escapeHtml } from './html-escape.js';

/** An HTML table of plain-text cells; `numeric[column]` right-aligns a column. */
export function htmlTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  numeric: readonly boolean[] = [],
): string {
  const cell = (tag: string, text: string, column: number) =>
    `<${tag} style="text-align:${numeric[column] ? 'right' : 'left'}">${escapeHtml(text)}</${tag}>`;
  return (
    `<table><thead><tr>${header.map((text, column) => cell('th', text, column)).join('')}</tr></thead><tbody>` +
    rows.map((row) => `<tr>${row.map((text, column) => cell('td', text, column)).join('')}</tr>`).join('') +
    '</tbody></table>'
  );
}
