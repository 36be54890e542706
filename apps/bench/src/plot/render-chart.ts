import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Fonts resvg can use for the chart's text; Debian's fonts-dejavu-core puts them here. */
const FONT_FILES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
];

/** A Vega-Lite spec rendered without a browser: SVG from vega's headless view, PNG from resvg. */
export async function renderChart(spec: TopLevelSpec, basePath: string): Promise<{ svg: string; png: string }> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const fontFiles = FONT_FILES.filter((file) => existsSync(file));
  const png = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: 2 },
    font: { fontFiles, loadSystemFonts: fontFiles.length === 0, defaultFontFamily: 'DejaVu Sans' },
  })
    .render()
    .asPng();
  const svgPath = `${basePath}.svg`;
  const pngPath = `${basePath}.png`;
  await writeFile(svgPath, svg);
  await writeFile(pngPath, png);
  return { svg: svgPath, png: pngPath };
}
