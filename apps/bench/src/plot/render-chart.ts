import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { writeFileAtomically } from '@mup2/model-zoo';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** The chart's font ships with the dejavu-fonts-ttf package, so PNGs have text on a machine without fonts. */
const fontDirectory = join(dirname(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json')), 'ttf');
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((file) => join(fontDirectory, file));

/** A Vega-Lite spec rendered without a browser: SVG from vega's headless view, PNG from resvg. */
export async function renderChart(spec: TopLevelSpec, basePath: string): Promise<{ svg: string; png: string }> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: 2 },
    font: { fontFiles: FONT_FILES, loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans' },
  })
    .render()
    .asPng();
  const svgPath = `${basePath}.svg`;
  const pngPath = `${basePath}.png`;
  await writeFileAtomically(svgPath, svg, 'the results it draws are unchanged; rerun once there is room');
  await writeFileAtomically(pngPath, png, 'the results it draws are unchanged; rerun once there is room');
  return { svg: svgPath, png: pngPath };
}
