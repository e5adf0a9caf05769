/**
 * The task pool's part of the timeline: a slice per task on the worker that ran it (function, attempt,
 * task id), a short `submit` slice on the driver's track, and a flow arrow from one to the other (the
 * task id names the flow on both sides). Callers test `tracing` first, so this costs nothing when off.
 */
import { basename } from 'node:path';
import { flowId, setTraceThread, traceFlow, traceSlice } from '../trace/recorder.js';
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

/** The task ran on this worker from startMono until now. */
export function traceTask(item: DispatchItem, startMono: number): void {
  traceSlice(item.fn, 'task', startMono, performance.now(), {
    task: item.id,
    attempt: item.attempt,
    module: basename(item.mod),
  });
  traceFlow('f', flowId(item.id), startMono, 'task');
}

/** The driver submitted task `id` (function `fn`) from startMono until now. */
export function traceSubmit(fn: string, id: string, startMono: number): void {
  traceSlice(`submit ${fn}`, 'submit', startMono, performance.now(), { task: id });
  traceFlow('s', flowId(id), startMono, 'task');
}
