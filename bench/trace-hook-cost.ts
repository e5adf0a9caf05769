/**
 * TSRUN_TRACE_DIR=$(mktemp -d) npx tsx bench/trace-hook-cost.ts [N]
 *
 * What tracing adds per collective call and per pool task, measured in-process: the slice recording of
 * a finished call (flight entry -> trace slice, as collectives/call-trace.ts does) and a task's slice and
 * flow on the worker plus its submit slice and flow on the driver (src/pool/task-trace.ts). Prints JSON
 * lines in microseconds; divide by a call's or a task's time (bench:collectives, bench:tasks) for the
 * relative overhead. Refuses to run with tracing off, where the hooks are a boolean test.
 */
import { CallState } from '../collectives/call-state.js';
import { traceCollectives } from '../collectives/call-trace.js';
import { recordCall } from '../collectives/flight-recorder.js';
import { traceSubmit, traceTask } from '../src/pool/task-trace.js';
import type { DispatchItem } from '../src/pool/task-types.js';
import { tracing } from '../src/trace/recorder.js';

if (!tracing) {
  process.stderr.write('set TSRUN_TRACE_DIR (a scratch directory) to measure the tracing hooks\n');
  process.exit(2);
}
const n = Number(process.argv[2] ?? 200_000);
const fp = { op: 1, dtype: 1, redop: 1, count: 8, root: 0 };

/** CPU microseconds per call (user + system): on a shared machine wall time counts other jobs too. */
function usPerCall(body: (i: number) => void): number {
  for (let i = 0; i < 2000; i++) body(i); // warm-up
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) body(i);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}

const emit = (hook: string, us: number) =>
  console.log(JSON.stringify({ bench: 'trace-hook-cost', hook, us: Number(us.toFixed(3)), calls: n }));

const members = [0, 1];
const call = (i: number) => recordCall(0, members, new CallState(i, fp, 'allReduce')).end();
// The flight recorder runs with or without tracing; tracing adds the slice its end listener records.
const flightOnly = usPerCall(call);
traceCollectives(0);
const withTrace = usPerCall(call);
emit('flight recorder per collective call (always on)', flightOnly);
emit('tracing per collective call (slice)', withTrace - flightOnly);
const item: DispatchItem = {
  id: 'c1.1',
  mod: 'file:///x/tasks.ts',
  fn: 'noop',
  args: new Uint8Array(0),
  attempt: 1,
  deps: [],
};
emit(
  'tracing per pool task, driver side (submit slice + flow start)',
  usPerCall((i) => traceSubmit('noop', `c1.${i}`, performance.now())),
);
emit(
  'tracing per pool task, worker side (task slice + flow end)',
  usPerCall((i) => {
    item.id = `c1.${i}`;
    traceTask(item, performance.now());
  }),
);
