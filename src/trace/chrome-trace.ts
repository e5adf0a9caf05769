/**
 * Merges the parts of a job's processes into one Chrome Trace Event file: one process per host, one
 * thread per traced process (rank, pool worker, driver, the launcher), clocks moved onto rank 0's by each
 * part's offset, times starting at 0, events sorted by time.
 */
import type { ChromeTrace, TraceEvent, TracePart } from './trace-types.js';

export function mergeTraceParts(parts: TracePart[], meta: Record<string, unknown> = {}): ChromeTrace {
  const sorted = [...parts].sort((a, b) => a.sortIndex - b.sortIndex || a.pid - b.pid);
  const hostPid = new Map<string, number>();
  for (const p of sorted) if (!hostPid.has(p.host)) hostPid.set(p.host, hostPid.size + 1);
  let t0 = Number.POSITIVE_INFINITY;
  for (const p of sorted) for (const e of p.events) t0 = Math.min(t0, e.ts + p.offsetUs);
  if (!Number.isFinite(t0)) t0 = 0;
  const out: TraceEvent[] = [];
  for (const [host, pid] of hostPid) {
    out.push({ name: 'process_name', ph: 'M', ts: 0, pid, tid: 0, args: { name: host } });
    out.push({ name: 'process_sort_index', ph: 'M', ts: 0, pid, tid: 0, args: { sort_index: pid } });
  }
  const timed: TraceEvent[] = [];
  const clocks: Record<string, { offsetUs: number; rttUs: number }> = {};
  for (const p of sorted) {
    const pid = hostPid.get(p.host)!;
    const tid = p.pid;
    out.push({ name: 'thread_name', ph: 'M', ts: 0, pid, tid, args: { name: p.thread } });
    out.push({ name: 'thread_sort_index', ph: 'M', ts: 0, pid, tid, args: { sort_index: p.sortIndex } });
    clocks[`${p.host}/${p.thread}`] = { offsetUs: Math.round(p.offsetUs), rttUs: Math.round(p.offsetRttUs) };
    for (const e of p.events) timed.push({ ...e, pid, tid, ts: e.ts + p.offsetUs - t0 });
  }
  // Stable by time; at equal times an enclosing slice (longer) comes first, as viewers expect.
  timed.sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));
  return {
    traceEvents: out.concat(timed),
    displayTimeUnit: 'ms',
    otherData: { producer: 'tsrun', startEpochUs: t0, clocks, ...meta },
  };
}
