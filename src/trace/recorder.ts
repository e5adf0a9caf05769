/**
 * This process's timeline recorder. On when TSRUN_TRACE (a file) or TSRUN_TRACE_DIR (set by `tsrun
 * --trace`) is in the environment; otherwise every hook is one boolean test. Events are kept in memory
 * with microseconds of the host's monotonic clock and written once, when the process exits (or is stopped with SIGTERM), as a
 * TracePart: into TSRUN_TRACE_DIR for the launcher to merge, or next to the TSRUN_TRACE file, which is
 * then rebuilt from every part written so far (the last process of the job to exit completes it).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { mergeTraceParts } from './chrome-trace.js';
import type { TraceEvent, TracePart } from './trace-types.js';

const env = process.env;
/** Whether this process records a timeline. Hooks test this before doing anything else. */
export const tracing: boolean = Boolean(env.TSRUN_TRACE || env.TSRUN_TRACE_DIR);

/**
 * Hot paths (a collective call, a pool task) record a compact entry: its times, a small data object and
 * the function that turns it into trace events when the part is written. Building the events, names and
 * args there instead of per call keeps the recording cost to one or two small allocations.
 */
export type Materialize<D> = (d: D, startUs: number, endUs: number) => TraceEvent[];
interface Deferred {
  m: Materialize<unknown>;
  d: unknown;
  s: number;
  e: number;
}
const events: Array<TraceEvent | Deferred> = [];
let thread = env.RANK !== undefined ? `rank ${env.RANK}` : `process ${process.pid}`;
let sortIndex = env.RANK !== undefined ? Number(env.RANK) : 1_000_000 + process.pid;
let offsetUs = 0;
let offsetRttUs = 0;
let offsetMeasured = false;

/**
 * Times are CLOCK_MONOTONIC microseconds (process.hrtime), one clock for every process of a host, not
 * wall-clock ones from performance.timeOrigin: each process samples that origin once at start-up, and
 * under load those samples disagree between processes by tens of milliseconds (measured: 48 ms across
 * 30 processes started beside 4 busy loops), enough to draw a pool task before its submission.
 * performance.now() counts on the same clock from this process's origin, found here to a microsecond.
 */
const MONO_ORIGIN_US = monotonicOriginUs();

function monotonicOriginUs(): number {
  let gap = Number.POSITIVE_INFINITY;
  let origin = 0;
  for (let i = 0; i < 5; i++) {
    const before = performance.now();
    const hr = Number(process.hrtime.bigint()) / 1000;
    const after = performance.now();
    if (after - before < gap) {
      gap = after - before;
      origin = hr - (before + after) * 500;
    }
  }
  return origin;
}

/** Wall clock minus monotonic clock, to date the trace and to align hosts whose offset was not measured. */
const WALL_MINUS_MONO_US = performance.timeOrigin * 1000 - MONO_ORIGIN_US;

/** performance.now() milliseconds -> microseconds on this host's monotonic clock. */
export function monoToUs(mono: number): number {
  return MONO_ORIGIN_US + mono * 1000;
}

export function wallMinusMonoUs(): number {
  return WALL_MINUS_MONO_US;
}

/** This host's monotonic clock in microseconds (what the rendezvous store's Time answers). */
export function hostClockUs(): number {
  return Number(process.hrtime.bigint()) / 1000;
}

export function nowUs(): number {
  return monoToUs(performance.now());
}

let named = false;

/**
 * Names this process's track (e.g. `rank 3`, `worker 1234`) and orders it among the host's tracks. The
 * first name given wins unless `override` (a pool worker that runs an SPMD task stays `worker ...`).
 */
export function setTraceThread(name: string, order: number, override = false): void {
  if (named && !override) return;
  named = true;
  const restart = Number(env.TSRUN_RESTART_COUNT ?? 0);
  thread = restart > 0 ? `${name} (restart ${restart})` : name;
  sortIndex = order;
}

/** The offset of this host's clock to rank 0's (add it), measured at rendezvous. */
export function setClockOffset(us: number, rttUs: number): void {
  offsetUs = us;
  offsetRttUs = rttUs;
  offsetMeasured = true;
}

/** A complete slice between two performance.now() readings. */
export function traceSlice(
  name: string,
  cat: string,
  startMono: number,
  endMono: number,
  args?: Record<string, unknown>,
): void {
  events.push({
    name,
    cat,
    ph: 'X',
    ts: monoToUs(startMono),
    dur: Math.max(0, (endMono - startMono) * 1000),
    args,
  });
}

/** Records a span [startMono, endMono] (performance.now() ms) whose events are built at write time. */
export function traceDeferred<D>(m: Materialize<D>, d: D, startMono: number, endMono: number): void {
  events.push({ m: m as Materialize<unknown>, d, s: startMono, e: endMono });
}

const sources: Array<() => TraceEvent[]> = [];

/** Adds events kept elsewhere in compact form (e.g. flat arrays), built when the part is written. */
export function addTraceSource(fn: () => TraceEvent[]): void {
  sources.push(fn);
}

export function traceInstant(name: string, cat: string, args?: Record<string, unknown>): void {
  events.push({ name, cat, ph: 'i', s: 't', ts: nowUs(), args });
}

/** Flow arrow ends: start inside the submitting slice, end bound to the slice that runs it. */
export function traceFlow(phase: 's' | 'f', id: number, mono: number, name: string): void {
  events.push(
    phase === 'f'
      ? { name, cat: 'flow', ph: 'f', bp: 'e', id, ts: monoToUs(mono) }
      : { name, cat: 'flow', ph: 's', id, ts: monoToUs(mono) },
  );
}

/** A stable 31-bit id for a flow from a task id (ids are unique per pool client, `client.n`). */
export function flowId(key: string): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return h >>> 1 || 1;
}

export function tracePart(): TracePart {
  const out: TraceEvent[] = [];
  for (const ev of events) {
    if ('ph' in ev) out.push(ev);
    else for (const x of ev.m(ev.d, monoToUs(ev.s), monoToUs(ev.e))) out.push(x);
  }
  // Not push(...list): a long job's list would overflow the call stack.
  for (const src of sources) for (const x of src()) out.push(x);
  return {
    host: hostname(),
    pid: process.pid,
    thread,
    sortIndex,
    offsetUs,
    offsetRttUs,
    offsetMeasured,
    wallMinusMonoUs: WALL_MINUS_MONO_US,
    events: out,
  };
}

function writeAtomic(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

export function readParts(dir: string): TracePart[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.part.json'));
  } catch {
    return [];
  }
  const parts: TracePart[] = [];
  for (const n of names) {
    try {
      parts.push(JSON.parse(readFileSync(join(dir, n), 'utf8')) as TracePart);
    } catch {
      // a part being written (its .tmp) or damaged: skipped
    }
  }
  return parts;
}

let written = false;

/** Writes this process's part (and, with TSRUN_TRACE, rebuilds the trace file). Runs once. */
export function flushTrace(): void {
  if (!tracing || written) return;
  written = true;
  const part = tracePart();
  const name = `${part.host}-${part.pid}.part.json`;
  try {
    if (env.TSRUN_TRACE_DIR) {
      writeAtomic(join(env.TSRUN_TRACE_DIR, name), JSON.stringify(part));
      return;
    }
    const file = env.TSRUN_TRACE!;
    const partsDir = join(dirname(file), `.${basename(file)}.parts`);
    writeAtomic(join(partsDir, name), JSON.stringify(part));
    // Processes of one job may exit together: whoever sees a part it did not merge merges again, so
    // the last rename always holds every part written before it.
    for (let merged = -1; ; ) {
      const parts = readParts(partsDir);
      if (parts.length === merged) break;
      merged = parts.length;
      writeAtomic(file, JSON.stringify(mergeTraceParts(parts)));
    }
  } catch (e) {
    process.stderr.write(`tsrun: could not write the trace: ${(e as Error).message}\n`);
  }
}

if (tracing) {
  process.on('exit', flushTrace);
  // A stopped rank (tsrun stops the others when one fails) still leaves its part; then the default action.
  const onTerm = () => {
    flushTrace();
    process.removeListener('SIGTERM', onTerm);
    if (process.listenerCount('SIGTERM') === 0) process.kill(process.pid, 'SIGTERM');
  };
  process.on('SIGTERM', onTerm);
}
