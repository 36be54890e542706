import MarkdownIt from 'markdown-it';

/**
 * markdown-it as the report uses it: CommonMark with GitHub's pipe tables, raw HTML off (so a
 * results file's `<script>` is shown as text, not run), no typographic replacements (ρ, η* and
 * numbers stay as written), and headings two levels down, below the report's own h2 sections.
 */
const markdown = new MarkdownIt({ html: false, linkify: false, typographer: false });
markdown.core.ruler.push('report_heading_levels', (state) => {
  for (const token of state.tokens) {
    if (token.type === 'heading_open' || token.type === 'heading_close') {
      token.tag = `h${Math.min(6, Number(token.tag.slice(1)) + 2)}`;
    }
  }
});

/** The Markdown the bench commands write (headings, pipe tables, lists, paragraphs) as HTML, its raw HTML escaped. */
export function renderMarkdown(text: string): string {
  return markdown.render(text).trimEnd();
}
