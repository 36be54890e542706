import { describe, expect, it } from 'vitest';
import { renderMarkdown } from './render-markdown.js';

describe('renderMarkdown (markdown-it, raw HTML off)', () => {
  it('turns a pipe table with alignments into an HTML table', () => {
    const html = renderMarkdown('| step | ms |\n|---|---:|\n| sgd | 98.0 |\n| sam mup2 | 190.5 |');
    expect(html).toMatch(/^<table>/);
    expect(html).toContain('<th>step</th>');
    expect(html).toContain('<th style="text-align:right">ms</th>');
    expect(html).toContain('<td>sam mup2</td>');
    expect(html).toContain('<td style="text-align:right">190.5</td>');
    expect(html.match(/<tr>/g)).toHaveLength(3);
  });

  it('puts headings below the report’s sections, and keeps lists and paragraphs', () => {
    const html = renderMarkdown('### MLP (batch 128)\n\nTensor growth per step: 0\n\n- SAM/SGD: 1.9 **met**');
    expect(html).toContain('<h5>MLP (batch 128)</h5>');
    expect(html).toContain('<p>Tensor growth per step: 0</p>');
    expect(html).toContain('<li>SAM/SGD: 1.9 <strong>met</strong></li>');
    expect(renderMarkdown('#### deep')).toBe('<h6>deep</h6>');
  });

  it('escapes markup, so a results file cannot inject a script or an attribute', () => {
    const html = renderMarkdown('<script>alert(1)</script> `a<b`\n\n<img src=x onerror=alert(1)>');
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('<code>a&lt;b</code>');
  });

  it('leaves the optima’s asterisks and the Greek letters alone', () => {
    expect(renderMarkdown('best η* and ρ* per width; (η*, ρ*) at ×8')).toBe(
      '<p>best η* and ρ* per width; (η*, ρ*) at ×8</p>',
    );
  });
});
