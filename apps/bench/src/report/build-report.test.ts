import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeExampleResults } from '../../fixtures/example-results.js';
import { type BuiltReport, buildReport } from './build-report.js';
import { pngSize } from './png-size.js';

let dir: string;
let report: BuiltReport;
let html: string;

afterAll(() => rm(dir, { recursive: true, force: true }));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mup2-report-'));
  await writeExampleResults(dir);
  await writeFile(
    join(dir, 'table2.json'),
    JSON.stringify({ command: 'table2', config: { model: 'resnet18', seeds: 4 }, backend: 'wasm', rows: [] }),
  );
  await writeFile(join(dir, 'table2.md'), '| rule | SP | µP² |\n|---|---:|---:|\n| SAM | 95.1 ± 0.1 | 95.6 ± 0.2 |\n');
  await writeFile(
    join(dir, 'perf.json'),
    JSON.stringify({ command: 'perf', backend: 'wasm', options: { rounds: 10 } }),
  );
  await writeFile(join(dir, 'notes.txt'), 'not a result');
  report = await buildReport(dir);
  html = await readFile(report.html, 'utf8');
}, 120_000);

describe('buildReport on a folder with a sweep, a coord check, table2 and perf', () => {
  it('renders every figure to SVG and PNG, the PNG at twice the SVG’s size', async () => {
    // Example sweep: rules sgd and sam at two widths → heatmap + transfer each, accuracy against ρ for sam,
    // the rule comparison; and the coord plot.
    expect(report.figures.map((figure) => figure.slug)).toEqual([
      'sweep-1-sgd-heatmap',
      'sweep-1-sgd-transfer',
      'sweep-1-sam-heatmap',
      'sweep-1-sam-transfer',
      'sweep-1-sam-rho-profile',
      'sweep-1-rule-comparison',
      'coord',
    ]);
    const files = await readdir(join(dir, 'report-figures'));
    expect(files.sort()).toEqual(
      report.figures.flatMap((figure) => [`${figure.slug}.png`, `${figure.slug}.svg`]).sort(),
    );
    for (const figure of report.figures) {
      const svg = await readFile(figure.svg, 'utf8');
      const width = Number(/<svg[^>]*\swidth="([\d.]+)"/.exec(svg)?.[1]);
      const height = Number(/<svg[^>]*\sheight="([\d.]+)"/.exec(svg)?.[1]);
      expect(width).toBeGreaterThan(100);
      const png = pngSize(await readFile(figure.png));
      expect(png).toEqual({ width: Math.round(2 * width), height: Math.round(2 * height) });
      expect({ width: figure.width, height: figure.height }).toEqual(png);
    }
  });

  it('writes one page that embeds every figure as a PNG data URI and fetches nothing', () => {
    const images = [...html.matchAll(/<img src="data:image\/png;base64,([A-Za-z0-9+/=]+)"/g)];
    expect(images).toHaveLength(report.figures.length);
    for (const [, base64] of images) expect(pngSize(Buffer.from(base64!, 'base64')).width).toBeGreaterThan(0);
    expect(html).not.toMatch(/<script|<link|@import|url\(|src="(?!data:)/);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('shows the grid and configs that produced the figures and tables', () => {
    expect(html).toContain('<h3>Grid <code>example012345678</code></h3>');
    expect(html).toContain('&quot;lrs&quot;: [0.03, 0.1, 0.3, 1],');
    expect(html).toContain('&quot;learningRate&quot;: 0.1'); // coord.json's config
    expect(html).toContain('&quot;model&quot;: &quot;resnet18&quot;'); // table2.json's config
    expect(html).toContain('&quot;rounds&quot;: 10'); // perf.json's options
  });

  it('has the tables: optima, coord slopes, table2 from its Markdown, failed cells', () => {
    expect(html).toContain('<h2>Table 2: SGD, SAM, SAM-ON and ASAM in SP and µP²</h2>');
    expect(html).toContain('<td style="text-align:right">95.6 ± 0.2</td>');
    // Slopes from the example coord.json: mup-global input W −1.74, mup2 output W −0.18.
    expect(html).toContain('<td style="text-align:right">-1.74</td>');
    expect(html).toContain('<td style="text-align:right">-0.18</td>');
    expect(html).toContain('example failure: out of memory');
    // perf.json without perf.md: its JSON.
    expect(html).toContain('No perf.md beside perf.json');
    // The example: 192 SAM + 32 SGD rows and a failed one; SP at width ×4 diverges at η = 1 (8 SAM, 2 SGD rows).
    expect(html).toContain('<p>225 finished cells in results.jsonl: 214 ok, 10 diverged, 1 failed; backend wasm;');
  });

  it('lists the files it did not recognise', () => {
    expect(report.folder.unknown).toEqual(['notes.txt']);
    expect(html).toContain('<p>Not recognised (not shown):</p><ul><li><code>notes.txt</code></li></ul>');
  });

  it('renders again into the same folder without listing its own output', async () => {
    const again = await buildReport(dir);
    expect(again.folder.unknown).toEqual(['notes.txt']);
    expect(again.figures).toHaveLength(report.figures.length);
  }, 120_000);
});
