import sharp from 'sharp';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { writeFileAtomic } from '../../src/atomic-write.js';
import { ChartRenderError } from './errors.js';

export interface RenderedChart {
  name: string;
  svgFile: string;
  pngFile: string;
  width: number;
  height: number;
}

/** PNG pixels per SVG pixel: 2x keeps text crisp on high-density screens and in the paper. */
const PNG_DENSITY_DPI = 144;

/** Compiles a vega-lite spec to SVG without a browser, then rasterises it with sharp. */
async function renderSvgAndPng(spec: vl.TopLevelSpec): Promise<{ svg: string; png: Buffer }> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    const png = await sharp(Buffer.from(svg), { density: PNG_DENSITY_DPI }).png().toBuffer();
    return { svg, png };
  } finally {
    view.finalize();
  }
}

/** Renders `spec` to `<dir>/<name>.svg` and `<dir>/<name>.png`, both written atomically. */
export async function renderChart(spec: vl.TopLevelSpec, dir: string, name: string): Promise<RenderedChart> {
  let rendered: { svg: string; png: Buffer };
  try {
    rendered = await renderSvgAndPng(spec);
  } catch (err) {
    throw new ChartRenderError(name, err);
  }
  const svgFile = `${dir}/${name}.svg`;
  const pngFile = `${dir}/${name}.png`;
  await writeFileAtomic(svgFile, rendered.svg);
  await writeFileAtomic(pngFile, rendered.png);
  const meta = await sharp(rendered.png).metadata();
  return { name, svgFile, pngFile, width: meta.width ?? 0, height: meta.height ?? 0 };
}
