/**
 * The task pool's part of the timeline: a slice per task on the worker that ran it (function, attempt,
 * task id), a short `submit` slice on the driver's track, and a flow arrow from one to the other (the
 * task id names the flow on both sides). Callers test `tracing` first, so this costs nothing when off.
 */
import { basename } from 'node:path';
import { flowId, type Materialize, setTraceThread, traceDeferred } from '../trace/recorder.js';
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

const submitEvents: Materialize<{ fn: string; id: string }> = (t, ts, end) => [
  { name: `submit ${t.fn}`, cat: 'submit', ph: 'X', ts, dur: end - ts, args: { task: t.id } },
  { name: 'task', cat: 'flow', ph: 's', id: flowId(t.id), ts },
];

/** The task ran on this worker from startMono until now (its arguments are not kept). */
export function traceTask(item: DispatchItem, startMono: number): void {
  traceDeferred(
    taskEvents,
    { id: item.id, fn: item.fn, mod: item.mod, attempt: item.attempt },
    startMono,
    performance.now(),
  );
}

/** The driver submitted task `id` (function `fn`) from startMono until now. */
export function traceSubmit(fn: string, id: string, startMono: number): void {
  traceDeferred(submitEvents, { fn, id }, startMono, performance.now());
}
