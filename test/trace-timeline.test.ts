/**
 * The job timeline: `tsrun --trace` on a 3-rank job and on a `--pool` job, and TSRUN_TRACE without the
 * launcher, each parsed as Chrome Trace Event JSON and checked for its tracks, slices (count, names,
 * nesting, monotonic times) and flows; the merge and the clock estimate are unit-tested directly.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { runRanksWith } from 'tsrun/testing';
import { mergeTraceParts } from '../src/trace/chrome-trace.js';
import { estimateClockOffset } from '../src/trace/clock-sync.js';
import type { ChromeTrace, TraceEvent, TracePart } from '../src/trace/trace-types.js';
import { runTsrun } from './helpers/ssh-tsrun.js';

const fixture = (p: string) => new URL(`./fixtures/${p}`, import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tsrun-trace-test-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function load(file: string): ChromeTrace {
  return JSON.parse(readFileSync(file, 'utf8')) as ChromeTrace;
}

/** thread name -> tid, and tid -> its timed events in file order. */
function tracks(trace: ChromeTrace): { byName: Map<string, number>; events: Map<number, TraceEvent[]> } {
  const byName = new Map<string, number>();
  const events = new Map<number, TraceEvent[]>();
  for (const e of trace.traceEvents) {
    if (e.ph === 'M' && e.name === 'thread_name') byName.set(String(e.args?.name), e.tid!);
    else if (e.ph !== 'M') events.set(e.tid!, [...(events.get(e.tid!) ?? []), e]);
  }
  return { byName, events };
}

/** Times are non-negative and sorted, and slices of one track nest (contained or disjoint). */
function checkTimes(t: Test, trace: ChromeTrace): void {
  const timed = trace.traceEvents.filter((e) => e.ph !== 'M');
  t.ok(
    timed.every((e) => e.ts >= 0 && Number.isFinite(e.ts)),
    'every time is a non-negative number',
  );
  t.ok(
    timed.every((e, i) => i === 0 || e.ts >= timed[i - 1].ts),
    'events are sorted by time',
  );
  const slices = new Map<number, TraceEvent[]>();
  for (const e of timed) if (e.ph === 'X') slices.set(e.tid!, [...(slices.get(e.tid!) ?? []), e]);
  let bad = 0;
  for (const list of slices.values()) {
    const open: TraceEvent[] = [];
    for (const s of list) {
      while (open.length && open[open.length - 1].ts + open[open.length - 1].dur! <= s.ts) open.pop();
      const parent = open[open.length - 1];
      if (parent && s.ts + s.dur! > parent.ts + parent.dur! + 1e-3) bad++;
      open.push(s);
    }
  }
  t.equal(bad, 0, 'slices on each track nest properly');
}

t.test('tsrun --trace on a 3-rank job: a track per rank, a slice per collective', async (t) => {
  const file = join(dir, 'spmd.json');
  const r = await runTsrun(['--nproc-per-node', '3', '--trace', file, fixture('spmd/traced-job.ts')]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /timeline of 3 process\(es\) written to/);
  const trace = load(file);
  t.equal(trace.displayTimeUnit, 'ms');
  const procs = trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'process_name');
  t.same(
    procs.map((p) => p.args?.name),
    [hostname()],
    'one process: the host',
  );
  const { byName, events } = tracks(trace);
  t.same([...byName.keys()].sort(), ['rank 0', 'rank 1', 'rank 2', 'tsrun (launcher)']);
  const inner = ['allReduce', 'allReduce', 'allReduce', 'allReduce', 'broadcast', 'scan', 'split'];
  for (const rank of [0, 1, 2]) {
    const slices = (events.get(byName.get(`rank ${rank}`)!) ?? []).filter((e) => e.ph === 'X');
    const names = slices.map((s) => s.name);
    const want = rank === 1 ? [...inner, 'barrier'] : [...inner, 'allGather', 'barrier', 'barrier'];
    t.same(names, want, `rank ${rank}: one slice per collective, in order`);
    t.ok(
      slices.every((s) => s.cat === 'collective' && typeof s.args?.bytes === 'number' && s.args?.algorithm),
      `rank ${rank}: every slice has its bytes and algorithm`,
    );
    t.same(
      slices.slice(0, 4).map((s) => s.args?.algorithm),
      ['allreduce-recursive-doubling', 'allreduce-ring', 'allreduce-recursive-doubling', 'allreduce-ring'],
      `rank ${rank}: the algorithm chosen by size`,
    );
    t.ok((slices[1].args?.bytes as number) > 100_000, 'the large all-reduce sent its bytes');
  }
  checkTimes(t, trace);
});

t.test('tsrun --pool --trace: task slices on the workers, flows from the driver', async (t) => {
  const file = join(dir, 'pool.json');
  const r = await runTsrun([
    '--pool',
    '--nproc-per-node',
    '3',
    '--trace',
    file,
    fixture('pool/traced-driver.ts'),
  ]);
  t.equal(r.code, 0, r.stderr);
  const trace = load(file);
  const { byName, events } = tracks(trace);
  const workers = [...byName.keys()].filter((n) => n.startsWith('worker '));
  t.equal(workers.length, 2, 'a track per worker');
  t.ok(byName.has('rank 0 (driver)'), 'the driver has its track');
  const driver = events.get(byName.get('rank 0 (driver)')!) ?? [];
  const submits = driver.filter((e) => e.ph === 'X');
  t.equal(submits.filter((e) => e.name === 'submit add').length, 12);
  t.equal(submits.filter((e) => e.name === 'submit sleepThen').length, 4);
  const starts = driver.filter((e) => e.ph === 's');
  t.equal(starts.length, 16, 'a flow starts at every submission');
  const taskSlices = workers.flatMap((w) => (events.get(byName.get(w)!) ?? []).filter((e) => e.ph === 'X'));
  t.equal(taskSlices.filter((e) => e.name === 'add').length, 12, 'a slice per add task');
  t.equal(taskSlices.filter((e) => e.name === 'sleepThen').length, 4, 'a slice per sleepThen task');
  t.ok(
    taskSlices.every((s) => s.cat === 'task' && s.args?.attempt === 1 && typeof s.args?.task === 'string'),
    'each task slice names its task and its first attempt',
  );
  t.ok(
    taskSlices.filter((s) => s.name === 'sleepThen').every((s) => s.dur! >= 25_000),
    'the 30 ms tasks last about 30 ms',
  );
  const ends = workers.flatMap((w) => (events.get(byName.get(w)!) ?? []).filter((e) => e.ph === 'f'));
  t.same(
    ends.map((e) => e.id).sort(),
    starts.map((e) => e.id).sort(),
    'every flow that starts at a submission ends at the task',
  );
  for (const f of ends) {
    const s = starts.find((x) => x.id === f.id)!;
    // One host, one monotonic clock for driver and workers: no alignment error to allow for.
    t.ok(f.ts >= s.ts, `a task starts after its submission (${f.ts} >= ${s.ts} µs)`);
  }
  checkTimes(t, trace);
});

t.test('TSRUN_TRACE=FILE without the launcher: every rank ends up in the one file', async (t) => {
  const file = join(dir, 'plain.json');
  await runRanksWith(
    { env: { TSRUN_TRACE: file }, timeoutMs: 120_000 },
    2,
    fixture('spmd/traced-ranks.ts'),
    'traced',
  );
  const trace = load(file);
  const { byName, events } = tracks(trace);
  t.same([...byName.keys()].sort(), ['rank 0', 'rank 1']);
  for (const r of [0, 1]) {
    t.same(
      (events.get(byName.get(`rank ${r}`)!) ?? []).filter((e) => e.ph === 'X').map((e) => e.name),
      ['allReduce', 'exscan', 'barrier', 'barrier'],
    );
  }
  checkTimes(t, trace);
});

t.test('merge: one process per host, clocks moved by each part’s offset', async (t) => {
  const part = (
    host: string,
    pid: number,
    thread: string,
    sortIndex: number,
    ts: number,
    clock: { offsetUs?: number; wallMinusMonoUs: number },
  ): TracePart => ({
    host,
    pid,
    thread,
    sortIndex,
    offsetUs: clock.offsetUs ?? 0,
    offsetRttUs: clock.offsetUs === undefined ? 0 : 10,
    offsetMeasured: clock.offsetUs !== undefined,
    wallMinusMonoUs: clock.wallMinusMonoUs,
    events: [{ name: 'allReduce', cat: 'collective', ph: 'X', ts, dur: 100 }],
  });
  // Host a is rank 0's (the reference). Host b's clock is 5 s ahead, measured by rank 1: its slice at
  // 5,000,300 µs happened 300 µs after rank 0's at 0, and a worker on b that measured nothing shares b's
  // clock (its wall-clock figure, off by 7 ms, is not used). A worker on a shares a's clock, whatever its
  // own wall-clock sample says. A worker on host c, where nothing was measured, is placed by the
  // difference of c's and a's wall clocks: c's clock is 2 s behind a's.
  const trace = mergeTraceParts([
    part('b', 7, 'rank 1', 1, 5_000_300, { offsetUs: -5_000_000, wallMinusMonoUs: 995_000_000 }),
    part('a', 9, 'rank 0', 0, 0, { wallMinusMonoUs: 1_000_000_000 }),
    part('b', 8, 'worker 8', 1_000_008, 5_000_500, { wallMinusMonoUs: 995_007_000 }),
    part('a', 5, 'worker 5', 1_000_005, 400, { wallMinusMonoUs: 1_000_040_000 }),
    part('c', 3, 'worker 3', 1_000_003, -1_999_000, { wallMinusMonoUs: 1_002_000_000 }),
  ]);
  const procs = trace.traceEvents.filter((e) => e.name === 'process_name');
  t.same(
    procs.map((p) => [p.pid, p.args?.name]),
    [
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ],
  );
  const x = trace.traceEvents.filter((e) => e.ph === 'X');
  t.same(
    x.map((e) => [e.pid, e.tid, e.ts]),
    [
      [1, 9, 0],
      [2, 7, 300],
      [1, 5, 400],
      [2, 8, 500],
      [3, 3, 1000],
    ],
  );
  t.equal(
    trace.otherData.startEpochUs,
    1_000_000_000,
    'the trace is dated by the reference host’s wall clock',
  );
});

t.test('clock offset: the shortest round trip bounds the error', async (t) => {
  let local = 1_000_000;
  const trueOffset = 4_000_000;
  const delays = [
    [900, 100],
    [50, 60],
    [300, 20],
  ];
  let i = 0;
  const est = await estimateClockOffset(
    async () => {
      const [up, down] = delays[i++ % delays.length];
      local += up;
      const remote = local + trueOffset;
      local += down;
      return remote;
    },
    () => local,
    3,
  );
  t.equal(est.rttUs, 110, 'the 110 µs exchange was kept');
  t.ok(Math.abs(est.offsetUs - trueOffset) <= est.rttUs / 2, `offset ${est.offsetUs} within rtt/2`);
});

t.test('--trace with a failure and a restart: instant marks, both attempts’ tracks', async (t) => {
  const file = join(dir, 'restart.json');
  const r = await runTsrun([
    '--nproc-per-node',
    '3',
    '--max-restarts',
    '1',
    '--trace',
    file,
    fixture('spmd/traced-restart.ts'),
  ]);
  t.equal(r.code, 0, r.stderr);
  const trace = load(file);
  const { byName, events } = tracks(trace);
  t.same([...byName.keys()].sort(), [
    'rank 0',
    'rank 0 (restart 1)',
    'rank 1',
    'rank 1 (restart 1)',
    'rank 2',
    'rank 2 (restart 1)',
    'tsrun (launcher)',
  ]);
  const marks = (events.get(byName.get('tsrun (launcher)')!) ?? []).map((e) => [e.ph, e.s, e.name]);
  t.same(marks, [
    ['i', 'g', 'rank 2 failed'],
    ['i', 'g', 'restart 1'],
  ]);
  const lost = ['rank 0', 'rank 1'].flatMap((n) =>
    (events.get(byName.get(n)!) ?? []).filter((e) => e.ph === 'i'),
  );
  // A survivor marks its failed call only if it noticed the loss before tsrun's SIGTERM reached it.
  t.ok(
    lost.every((e) => e.name === 'PeerLostError' && e.s === 't'),
    `failed calls marked on the ranks that saw them (${lost.length})`,
  );
  const second = (events.get(byName.get('rank 1 (restart 1)')!) ?? []).filter((e) => e.ph === 'X');
  t.same(
    second.map((e) => e.name),
    ['allReduce', 'allReduce', 'allReduce', 'allReduce', 'barrier'],
  );
  checkTimes(t, trace);
});
