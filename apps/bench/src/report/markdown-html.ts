import { escapeHtml } from './html-escape.js';

/** `code` and **bold** inside a line (single asterisks stay: η* is an optimum, not emphasis). */
function inline(text: string): string {
  return escapeHtml(text)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
}

function tableCells(line: string): string[] {
  const trimmed = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  return trimmed.split('|').map((cell) => cell.trim());
}

const isTableRow = (line: string) => line.trim().startsWith('|');
const isSeparator = (line: string) => /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/.test(line);

/**
 * The Markdown the bench commands write (headings, pipe tables with alignment,
 * bullet lists, paragraphs) as HTML. Everything else is shown as text: the
 * input is escaped, so a results file cannot inject markup into the report.
 */
export function markdownToHtml(markdown: string): string {
  const lines = markdown.replace(/\r\n/g, '\n').split('\n');
  const html: string[] = [];
  let index = 0;
  while (index < lines.length) {
    const line = lines[index]!;
    if (line.trim() === '') {
      index++;
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      // Report sections are h2; a results file's headings sit below them.
      const level = Math.min(6, heading[1]!.length + 2);
      html.push(`<h${level}>${inline(heading[2]!)}</h${level}>`);
      index++;
      continue;
    }
    if (isTableRow(line) && index + 1 < lines.length && isSeparator(lines[index + 1]!)) {
      const header = tableCells(line);
      const aligns = tableCells(lines[index + 1]!).map((cell) =>
        cell.endsWith(':') ? (cell.startsWith(':') ? 'center' : 'right') : 'left',
      );
      const cell = (tag: string, text: string, column: number) =>
        `<${tag} style="text-align:${aligns[column] ?? 'left'}">${inline(text)}</${tag}>`;
      const body: string[] = [];
      index += 2;
      while (index < lines.length && isTableRow(lines[index]!)) {
        body.push(
          `<tr>${tableCells(lines[index]!)
            .map((text, column) => cell('td', text, column))
            .join('')}</tr>`,
        );
        index++;
      }
      html.push(
        `<table><thead><tr>${header.map((text, column) => cell('th', text, column)).join('')}</tr></thead>` +
          `<tbody>${body.join('')}</tbody></table>`,
      );
      continue;
    }
    if (/^\s*[-*]\s+/.test(line)) {
      const items: string[] = [];
      while (index < lines.length && /^\s*[-*]\s+/.test(lines[index]!)) {
        items.push(`<li>${inline(lines[index]!.replace(/^\s*[-*]\s+/, ''))}</li>`);
        index++;
      }
      html.push(`<ul>${items.join('')}</ul>`);
      continue;
    }
    const paragraph: string[] = [];
    while (
      index < lines.length &&
      lines[index]!.trim() !== '' &&
      !/^#{1,6}\s/.test(lines[index]!) &&
      !isTableRow(lines[index]!) &&
      !/^\s*[-*]\s+/.test(lines[index]!)
    ) {
      paragraph.push(lines[index]!.trim());
      index++;
    }
    if (paragraph.length === 0) {
      // A lone table row without a separator: show it as text.
      paragraph.push(line.trim());
      index++;
    }
    html.push(`<p>${inline(paragraph.join(' '))}</p>`);
  }
  return html.join('\n');
}
