import { escapeHtml } from './html-escape.js';

const STYLE = `
body { font-family: "DejaVu Sans", system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2rem; margin-top: 2.5rem; }
nav ul { padding-left: 1.2rem; }
figure { margin: 1.2rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.9rem; color: #444; max-width: 60rem; }
table { border-collapse: collapse; margin: 0.6rem 0 1.2rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.6rem; }
th { background: #f3f3f3; }
pre { background: #f7f7f7; border: 1px solid #e3e3e3; padding: 0.6rem; overflow-x: auto; font-size: 0.8rem; }
pre.config { max-height: 24rem; }
code { font-size: 0.9em; }
.meta { color: #555; }
`;

/** A self-contained page: inline CSS, no scripts, nothing fetched (figures are data URIs). */
export function reportPage(options: {
  readonly folder: string;
  readonly generated: Date;
  readonly sections: readonly { readonly id: string; readonly title: string; readonly html: string }[];
}): string {
  const nav = options.sections
    .map((section) => `<li><a href="#${escapeHtml(section.id)}">${escapeHtml(section.title)}</a></li>`)
    .join('');
  const body = options.sections
    .map(
      (section) =>
        `<section id="${escapeHtml(section.id)}">\n<h2>${escapeHtml(section.title)}</h2>\n${section.html}\n</section>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>µP² benchmark report: ${escapeHtml(options.folder)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>µP² benchmark report</h1>
<p class="meta">Folder <code>${escapeHtml(options.folder)}</code>, rendered ${escapeHtml(options.generated.toISOString())} by <code>bench report</code>.</p>
<nav><ul>${nav}</ul></nav>
${body}
</body>
</html>
`;
}
