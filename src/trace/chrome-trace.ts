/**
 * Merges the parts of a job's processes into one Chrome Trace Event file: one process per host, one
 * thread per traced process (rank, pool worker, driver, the launcher), clocks moved onto rank 0's, times
 * starting at 0, events sorted by time.
 *
 * Every process of a host stamps with the host's monotonic clock, so one offset serves a host: a part's
 * measured offset (a rank on another host, NTP-style at rendezvous), else one measured on its host,
 * else 0 on the reference host (rank 0's, or the first part's), else the difference of the two hosts'
 * wall clocks (a pool worker on a host without ranks: as good as the hosts' NTP).
 */
import type { ChromeTrace, TraceEvent, TracePart } from './trace-types.js';

export function mergeTraceParts(parts: TracePart[], meta: Record<string, unknown> = {}): ChromeTrace {
  const sorted = [...parts].sort((a, b) => a.sortIndex - b.sortIndex || a.pid - b.pid);
  const hostPid = new Map<string, number>();
  for (const p of sorted) if (!hostPid.has(p.host)) hostPid.set(p.host, hostPid.size + 1);
  const anchor = referencePart(sorted);
  const offsets = clockOffsets(sorted, anchor);
  let t0 = Number.POSITIVE_INFINITY;
  for (const [i, p] of sorted.entries()) for (const e of p.events) t0 = Math.min(t0, e.ts + offsets[i]);
  if (!Number.isFinite(t0)) t0 = 0;
  const out: TraceEvent[] = [];
  for (const [host, pid] of hostPid) {
    out.push({ name: 'process_name', ph: 'M', ts: 0, pid, tid: 0, args: { name: host } });
    out.push({ name: 'process_sort_index', ph: 'M', ts: 0, pid, tid: 0, args: { sort_index: pid } });
  }
  const timed: TraceEvent[] = [];
  const clocks: Record<string, { offsetUs: number; rttUs: number }> = {};
  for (const [i, p] of sorted.entries()) {
    const pid = hostPid.get(p.host)!;
    const offset = offsets[i];
    const tid = p.pid;
    out.push({ name: 'thread_name', ph: 'M', ts: 0, pid, tid, args: { name: p.thread } });
    out.push({ name: 'thread_sort_index', ph: 'M', ts: 0, pid, tid, args: { sort_index: p.sortIndex } });
    clocks[`${p.host}/${p.thread}`] = { offsetUs: Math.round(offset), rttUs: Math.round(p.offsetRttUs) };
    for (const e of p.events) timed.push({ ...e, pid, tid, ts: e.ts + offset - t0 });
  }
  // Stable by time; at equal times an enclosing slice (longer) comes first, as viewers expect.
  timed.sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));
  return {
    traceEvents: out.concat(timed),
    displayTimeUnit: 'ms',
    otherData: { producer: 'tsrun', startEpochUs: t0 + epochShift(anchor), clocks, ...meta },
  };
}

/** The part whose host's clock is rank 0's: the lowest-ordered one that did not measure an offset. */
function referencePart(sorted: TracePart[]): TracePart | undefined {
  return (
    sorted.find((p) => p.sortIndex >= 0 && !p.offsetMeasured) ??
    sorted.find((p) => !p.offsetMeasured) ??
    sorted[0]
  );
}

/** A part's own offset to rank 0's clock: 0 where none was measured. */
function ownOffset(p: TracePart): number {
  return p.offsetMeasured ? p.offsetUs : 0;
}

/** What turns a merged time into the reference host's wall clock. */
function epochShift(anchor: TracePart | undefined): number {
  return anchor ? anchor.wallMinusMonoUs - ownOffset(anchor) : 0;
}

function clockOffsets(sorted: TracePart[], anchor: TracePart | undefined): number[] {
  const measuredOnHost = new Map<string, number>();
  for (const p of sorted)
    if (p.offsetMeasured && !measuredOnHost.has(p.host)) measuredOnHost.set(p.host, p.offsetUs);
  return sorted.map((p) => {
    if (p.offsetMeasured) return p.offsetUs;
    const onHost = measuredOnHost.get(p.host);
    if (onHost !== undefined) return onHost;
    if (!anchor) return 0;
    const base = ownOffset(anchor);
    return p.host === anchor.host ? base : base + p.wallMinusMonoUs - anchor.wallMinusMonoUs;
  });
}
