/**
 * The task pool's part of the timeline: a slice per task on the worker that ran it (function, attempt,
 * task id), a short `submit` slice on the driver's track, and a flow arrow from one to the other (the
 * task id names the flow on both sides). Callers test `tracing` first, so this costs nothing when off.
 */
import { basename } from 'node:path';
import {
  addTraceSource,
  flowId,
  type Materialize,
  monoToUs,
  setTraceThread,
  traceDeferred,
} from '../trace/recorder.js';
import type { TraceEvent } from '../trace/trace-types.js';
import type { DispatchItem } from './task-types.js';

export { tracing } from '../trace/recorder.js';

export function traceWorkerThread(): void {
  const rank = process.env.RANK;
  setTraceThread(
    `worker ${process.pid}`,
    1000 + (rank !== undefined ? Number(rank) : process.pid % 1000),
    true,
  );
}

export function traceDriverThread(): void {
  const rank = process.env.RANK;
  setTraceThread(
    rank !== undefined ? `rank ${rank} (driver)` : 'driver',
    rank !== undefined ? Number(rank) : -1,
    true,
  );
}

interface TaskRun {
  id: string;
  fn: string;
  mod: string;
  attempt: number;
}

const taskEvents: Materialize<TaskRun> = (t, ts, end) => [
  {
    name: t.fn,
    cat: 'task',
    ph: 'X',
    ts,
    dur: end - ts,
    args: { task: t.id, attempt: t.attempt, module: basename(t.mod) },
  },
  { name: 'task', cat: 'flow', ph: 'f', bp: 'e', id: flowId(t.id), ts },
];

/**
 * Submissions are the driver's hot path (tens of thousands a second): each is three array pushes, and
 * the slice (a fixed 1 µs: the flow needs a slice to start in) and flow are built when the part is written.
 */
const submitted = { fn: [] as string[], id: [] as string[], at: [] as number[] };
let submitSource = false;

function submitEvents(): TraceEvent[] {
  const out: TraceEvent[] = [];
  for (let i = 0; i < submitted.id.length; i++) {
    const ts = monoToUs(submitted.at[i]);
    const id = submitted.id[i];
    out.push(
      { name: `submit ${submitted.fn[i]}`, cat: 'submit', ph: 'X', ts, dur: 1, args: { task: id } },
      { name: 'task', cat: 'flow', ph: 's', id: flowId(id), ts },
    );
  }
  return out;
}

/** The task ran on this worker from startMono until now (its arguments are not kept). */
export function traceTask(item: DispatchItem, startMono: number): void {
  traceDeferred(
    taskEvents,
    { id: item.id, fn: item.fn, mod: item.mod, attempt: item.attempt },
    startMono,
    performance.now(),
  );
}

/** The driver submitted task `id` (function `fn`) at startMono. */
export function traceSubmit(fn: string, id: string, startMono: number): void {
  if (!submitSource) {
    submitSource = true;
    addTraceSource(submitEvents);
  }
  submitted.fn.push(fn);
  submitted.id.push(id);
  submitted.at.push(startMono);
}
