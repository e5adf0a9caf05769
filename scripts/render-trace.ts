/**
 * npm run trace:render -- TRACE.json OUT.svg|OUT.png [--width 1400] [--title TEXT]
 * Draws a `tsrun --trace` file (see src/trace/render-svg.ts); a .png is rasterised by sharp. Written atomically.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { renderTraceSvg } from '../src/trace/render-svg.js';
import type { ChromeTrace } from '../src/trace/trace-types.js';

const [input, output, ...rest] = process.argv.slice(2);
if (!input || !output || !/\.(svg|png)$/.test(output)) {
  process.stderr.write('usage: trace:render TRACE.json OUT.svg|OUT.png [--width N] [--title TEXT]\n');
  process.exit(2);
}
const opt = (name: string) => {
  const i = rest.indexOf(`--${name}`);
  return i >= 0 ? rest[i + 1] : undefined;
};
let trace: ChromeTrace;
try {
  trace = JSON.parse(readFileSync(input, 'utf8')) as ChromeTrace;
  if (!Array.isArray(trace.traceEvents)) throw new Error('no traceEvents array');
} catch (e) {
  process.stderr.write(`trace:render: ${input} is not a tsrun trace: ${(e as Error).message}\n`);
  process.exit(1);
}
const svg = renderTraceSvg(trace, { width: Number(opt('width') ?? 1400), title: opt('title') });
const tmp = `${output}.${process.pid}.tmp`;
if (output.endsWith('.svg')) writeFileSync(tmp, svg);
else await sharp(Buffer.from(svg), { density: 144 }).png().toFile(tmp);
renameSync(tmp, output);
process.stderr.write(`trace:render: wrote ${output}\n`);
