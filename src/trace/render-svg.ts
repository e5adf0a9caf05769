/**
 * Draws a tsrun timeline (Chrome Trace Event JSON as mergeTraceParts writes it) as an SVG: a band per
 * host, a row per track, slices as boxes coloured by kind (collective, task, submit), their names where
 * they fit, flow arrows from submissions to tasks, instant events as red marks, and a time axis in ms.
 * For the README and for looking at a trace without a viewer; Perfetto shows the same file interactively.
 */
import type { ChromeTrace, TraceEvent } from './trace-types.js';

const ROW = 26;
const LABEL_W = 170;
const AXIS_H = 28;
const HOST_H = 20;
const PALETTE: Record<string, string[]> = {
  collective: ['#4e79a7', '#59a14f', '#76b7b2', '#edc948', '#b07aa1', '#9c755f', '#f28e2b', '#86bcb6'],
  task: ['#f28e2b', '#e15759', '#ff9da7', '#d37295'],
  submit: ['#bab0ac'],
};

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function colour(e: TraceEvent, names: Map<string, number>): string {
  const pal = PALETTE[e.cat ?? ''] ?? ['#999999'];
  if (!names.has(e.name)) names.set(e.name, names.size);
  return pal[names.get(e.name)! % pal.length];
}

function niceStep(spanMs: number): number {
  const raw = spanMs / 8;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
}

export function renderTraceSvg(trace: ChromeTrace, opts: { width?: number; title?: string } = {}): string {
  const width = opts.width ?? 1400;
  const hosts = new Map<number, string>();
  const threads: Array<{ pid: number; tid: number; name: string; sort: number }> = [];
  const sortOf = new Map<string, number>();
  for (const e of trace.traceEvents) {
    if (e.ph !== 'M') continue;
    if (e.name === 'process_name') hosts.set(e.pid!, String(e.args?.name));
    if (e.name === 'thread_name')
      threads.push({ pid: e.pid!, tid: e.tid!, name: String(e.args?.name), sort: 0 });
    if (e.name === 'thread_sort_index') sortOf.set(`${e.pid}/${e.tid}`, Number(e.args?.sort_index));
  }
  for (const th of threads) th.sort = sortOf.get(`${th.pid}/${th.tid}`) ?? 0;
  threads.sort((a, b) => a.pid - b.pid || a.sort - b.sort);
  const timed = trace.traceEvents.filter((e) => e.ph !== 'M');
  const endUs = Math.max(1, ...timed.map((e) => e.ts + (e.dur ?? 0)));
  const plotW = width - LABEL_W - 20;
  const x = (us: number) => LABEL_W + (us / endUs) * plotW;
  const rowY = new Map<string, number>();
  let y = AXIS_H + (opts.title ? 24 : 0);
  const parts: string[] = [];
  let lastPid = -1;
  for (const th of threads) {
    if (th.pid !== lastPid) {
      parts.push(
        `<text x="6" y="${y + 14}" class="host">${esc(`host ${hosts.get(th.pid) ?? th.pid}`)}</text>`,
        `<line x1="0" x2="${width}" y1="${y + 0.5}" y2="${y + 0.5}" stroke="#888"/>`,
      );
      y += HOST_H;
      lastPid = th.pid;
    }
    rowY.set(`${th.pid}/${th.tid}`, y);
    parts.push(
      `<rect x="${LABEL_W}" y="${y}" width="${plotW}" height="${ROW - 2}" fill="#f4f4f4"/>`,
      `<text x="14" y="${y + 16}" class="label">${esc(th.name)}</text>`,
    );
    y += ROW;
  }
  const height = y + 8;
  const names = new Map<string, number>();
  const starts = new Map<number, { x: number; y: number }>();
  const arrows: string[] = [];
  const labelled: Array<{ x: number; y0: number }> = [];
  for (const e of timed) {
    const ry = rowY.get(`${e.pid}/${e.tid}`);
    if (ry === undefined) continue;
    if (e.ph === 'X') {
      const x0 = x(e.ts);
      const w = Math.max(1, x(e.ts + (e.dur ?? 0)) - x0);
      const title = `${e.name} ${((e.dur ?? 0) / 1000).toFixed(2)} ms ${JSON.stringify(e.args ?? {})}`;
      parts.push(
        `<rect x="${x0.toFixed(1)}" y="${ry + 2}" width="${w.toFixed(1)}" height="${ROW - 6}" fill="${colour(e, names)}" stroke="#333" stroke-width="0.3"><title>${esc(title)}</title></rect>`,
      );
      if (w > e.name.length * 6.2 + 4) {
        parts.push(`<text x="${(x0 + 3).toFixed(1)}" y="${ry + 16}" class="slice">${esc(e.name)}</text>`);
      }
    } else if (e.ph === 's') starts.set(e.id!, { x: x(e.ts), y: ry + ROW / 2 });
    else if (e.ph === 'f') {
      const s = starts.get(e.id!);
      if (s) {
        arrows.push(
          `<line x1="${s.x.toFixed(1)}" y1="${s.y}" x2="${x(e.ts).toFixed(1)}" y2="${ry + ROW / 2}" class="flow" marker-end="url(#arrow)"/>`,
        );
      }
    } else if (e.ph === 'i') {
      const xi = x(e.ts).toFixed(1);
      const [y0, y1] = e.s === 'g' ? [AXIS_H, height - 8] : [ry, ry + ROW - 2];
      // Labels of marks close together are stacked instead of drawn over each other.
      const near = labelled.filter((l) => l.y0 === y0 && Math.abs(l.x - Number(xi)) < 90).length;
      labelled.push({ x: Number(xi), y0 });
      parts.push(
        `<line x1="${xi}" x2="${xi}" y1="${y0}" y2="${y1}" stroke="#d62728" stroke-width="2"><title>${esc(`${e.name} ${JSON.stringify(e.args ?? {})}`)}</title></line>`,
        `<text x="${Number(xi) + 3}" y="${y0 + 10 + near * 11}" class="instant">${esc(e.name)}</text>`,
      );
    }
  }
  // A legend of slice colours, for the slices too short to carry their name.
  const legend: string[] = [];
  let lx = LABEL_W;
  const ly = height + 4;
  for (const [name, i] of names) {
    const cat = timed.find((e) => e.ph === 'X' && e.name === name)?.cat ?? '';
    const pal = PALETTE[cat] ?? ['#999999'];
    legend.push(
      `<rect x="${lx}" y="${ly}" width="12" height="12" fill="${pal[i % pal.length]}" stroke="#333" stroke-width="0.3"/>`,
      `<text x="${lx + 16}" y="${ly + 10}" class="tick">${esc(name)}</text>`,
    );
    lx += 26 + name.length * 6.2;
  }
  const fullHeight = names.size > 0 ? height + 24 : height;
  const axis: string[] = [];
  const spanMs = endUs / 1000;
  const step = niceStep(spanMs);
  const top = opts.title ? 24 : 0;
  for (let ms = 0; ms <= spanMs + 1e-9; ms += step) {
    const xt = x(ms * 1000).toFixed(1);
    axis.push(
      `<line x1="${xt}" x2="${xt}" y1="${top + AXIS_H - 6}" y2="${height - 8}" stroke="#ddd"/>`,
      `<text x="${xt}" y="${top + AXIS_H - 10}" class="tick" text-anchor="middle">${Number(ms.toPrecision(6))} ms</text>`,
    );
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${fullHeight}" viewBox="0 0 ${width} ${fullHeight}" font-family="DejaVu Sans, Arial, sans-serif">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
    '<style>.label{font-size:12px}.host{font-size:12px;font-weight:bold}.slice{font-size:10px;fill:#fff}.tick{font-size:10px;fill:#555}.instant{font-size:10px;fill:#d62728}.flow{stroke:#555;stroke-width:0.8;opacity:0.6}.title{font-size:14px;font-weight:bold}</style>',
    `<rect width="${width}" height="${fullHeight}" fill="#fff"/>`,
    opts.title ? `<text x="6" y="18" class="title">${esc(opts.title)}</text>` : '',
    ...axis,
    ...parts,
    ...arrows,
    ...legend,
    '</svg>',
  ].join('\n');
}
