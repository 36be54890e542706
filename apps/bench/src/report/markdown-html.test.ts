import { describe, expect, it } from 'vitest';
import { markdownToHtml } from './markdown-html.js';

describe('markdownToHtml', () => {
  it('turns a pipe table with alignments into an HTML table', () => {
    const html = markdownToHtml('| step | ms |\n|---|---:|\n| sgd | 98.0 |\n| sam mup2 | 190.5 |');
    expect(html).toBe(
      '<table><thead><tr><th style="text-align:left">step</th><th style="text-align:right">ms</th></tr></thead>' +
        '<tbody><tr><td style="text-align:left">sgd</td><td style="text-align:right">98.0</td></tr>' +
        '<tr><td style="text-align:left">sam mup2</td><td style="text-align:right">190.5</td></tr></tbody></table>',
    );
  });

  it('puts headings below the report’s sections, and keeps lists and paragraphs', () => {
    expect(
      markdownToHtml('### MLP (batch 128)\n\nTensor growth per step: 0\nsecond line\n\n- SAM/SGD: 1.9 **met**'),
    ).toBe(
      '<h5>MLP (batch 128)</h5>\n<p>Tensor growth per step: 0 second line</p>\n<ul><li>SAM/SGD: 1.9 <strong>met</strong></li></ul>',
    );
  });

  it('escapes markup, so a results file cannot inject a script', () => {
    expect(markdownToHtml('<script>alert(1)</script> `a<b`')).toBe(
      '<p>&lt;script&gt;alert(1)&lt;/script&gt; <code>a&lt;b</code></p>',
    );
  });

  it('leaves single asterisks alone (η* is an optimum)', () => {
    expect(markdownToHtml('best η* and ρ* per width')).toBe('<p>best η* and ρ* per width</p>');
  });
});
