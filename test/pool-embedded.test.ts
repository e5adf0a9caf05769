// The embedded pool on real worker processes: remote functions, refs as arguments, put shared by many
// tasks, map's in-flight bound (measured inside the workers), remote exceptions with their stack,
// timeouts, SIGKILLed workers (retries, WorkerLostError) and SPMD groups with the collectives.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import t from 'tap';
import {
  connect,
  GetTimeoutError,
  PoolUsageError,
  RemoteError,
  TaskTimeoutError,
  WorkerLostError,
} from '../src/pool/index.js';
import type * as Tasks from './fixtures/pool/tasks.js';

const TASKS = new URL('./fixtures/pool/tasks.ts', import.meta.url);

const pool = await connect({ workers: 2 });
t.teardown(() => pool.close());

const add = pool.remote<typeof Tasks.add>(TASKS, 'add');

t.test('remote call, refs as arguments, chains', async (t) => {
  t.equal(await pool.get(add(1, 2)), 3);
  const a = add(1, 2);
  const b = add(a, 10);
  const c = add(a, b);
  t.same(await pool.get([a, b, c]), [3, 13, 16], 'refs resolve before the task runs, in any position');
  const ones = pool.remote<typeof Tasks.ones>(TASKS, 'ones');
  const sum = pool.remote<typeof Tasks.sum>(TASKS, 'sum');
  const big = ones(300_000); // 2.4 MB: stays on the worker that made it
  t.equal(await pool.get(sum(big)), 300_000, 'a large result passed on by reference');
  const got = await pool.get(big);
  t.ok(
    got instanceof Float64Array && got.length === 300_000 && got[123] === 1,
    'large result fetched as Float64Array',
  );
});

t.test(
  'the in-process head shares no memory with its driver: mutating what get returned changes nothing',
  async (t) => {
    const ones = pool.remote<typeof Tasks.ones>(TASKS, 'ones');
    const sum = pool.remote<typeof Tasks.sum>(TASKS, 'sum');
    const small = ones(64); // inline: travels through the head with the completion
    const got = (await pool.get(small)) as Float64Array;
    got.fill(7);
    t.equal(await pool.get(sum(small)), 64, 'a task given the ref still reads the original values');
    const x = new Float64Array(32).fill(2);
    const put = pool.put(x);
    x.fill(5);
    t.equal(await pool.get(sum(put)), 64, 'a put is a copy of the array at put time');
  },
);

t.test('put is stored once and read by many tasks', async (t) => {
  const x = new Float64Array(200_000).fill(0.5);
  const ref = pool.put(x);
  x.fill(9); // the pool holds its own copy
  const same = pool.remote<typeof Tasks.sameAsLast>(TASKS, 'sameAsLast');
  const out = await pool.get(Array.from({ length: 20 }, () => same(ref)));
  t.ok(
    out.every((o) => o.sum === 100_000),
    'every task sees the value as put',
  );
  const perPid = new Map<number, number>();
  for (const o of out) if (!o.cached) perPid.set(o.pid, (perPid.get(o.pid) ?? 0) + 1);
  t.ok(
    [...perPid.values()].every((n) => n === 1),
    `each worker decoded the object once (${[...perPid]})`,
  );
  const back = await pool.get(ref);
  t.ok(back.length === 200_000 && back.every((v) => v === 0.5), 'the driver gets its put back');
  const small = pool.put({ hello: 'world', n: [1, 2] });
  t.same(await pool.get(small), { hello: 'world', n: [1, 2] });
});

t.test('locality: tasks go to the worker holding their large argument', async (t) => {
  const ones = pool.remote<typeof Tasks.ones>(TASKS, 'ones');
  const same = pool.remote<typeof Tasks.sameAsLast>(TASKS, 'sameAsLast');
  const big = ones(200_000); // 1.6 MB result, kept on the worker that made it
  await pool.wait([big]);
  const out = await pool.get(Array.from({ length: 8 }, () => same(big)));
  const perPid = new Map<number, number>();
  for (const o of out) perPid.set(o.pid, (perPid.get(o.pid) ?? 0) + 1);
  // Without locality the fair share splits 8 tasks 4/4; stealing may move a few on a loaded machine.
  t.ok(Math.max(...perPid.values()) >= 6, `most ran on the holder (${[...perPid.values()]})`);
  const tooBig = pool.remote<typeof Tasks.add>(TASKS, 'add', { cpus: 64 });
  await t.rejects(pool.get(tooBig(1, 2)), /asks for cpus: 64 but the largest worker offers 1/);
});

t.test('Arrow tables travel as tables', async (t) => {
  const rows = pool.remote<typeof Tasks.tableRows>(TASKS, 'tableRows');
  const table = tableFromArrays({ a: new Float64Array([1, 2, 3]) });
  t.equal(await pool.get(rows(table)), 3);
  const make = pool.remote<typeof Tasks.makeTable>(TASKS, 'makeTable');
  const back = await pool.get(make(50_000));
  t.equal(back.numRows, 50_000);
  t.equal(back.getChild('id')?.get(49_999), 49_999);
});

t.test('map yields in input order and never exceeds maxInFlight inside the workers', async (t) => {
  const span = pool.remote<typeof Tasks.span>(TASKS, 'span');
  // Two workers run at most two tasks at once, so bounds 1 and 2 are the ones that can be violated.
  for (const maxInFlight of [1, 2]) {
    const spans: Array<{ i: number; start: number; end: number }> = [];
    for await (const s of pool.map(
      span,
      Array.from({ length: 12 }, (_, i) => [30, i] as [number, number]),
      { maxInFlight },
    )) {
      spans.push(s);
    }
    t.same(
      spans.map((s) => s.i),
      Array.from({ length: 12 }, (_, i) => i),
      'input order',
    );
    // The most tasks running at one instant (a sweep over starts and ends; counting the spans that overlap
    // one span would also count two that ran one after the other beside a longer one). Spans are Date.now()
    // stamps (1 ms steps) taken in different processes, so each span counts from SLACK_MS after its start:
    // a hand-over within a few milliseconds is not read as concurrency. A real third task in flight would
    // overlap by ~30 ms.
    const SLACK_MS = 5;
    const events = spans.flatMap((s) => [
      { at: s.start + SLACK_MS, d: 1 },
      { at: s.end, d: -1 },
    ]);
    events.sort((a, b) => a.at - b.at || a.d - b.d);
    let most = 0;
    let running = 0;
    for (const e of events) {
      running += e.d;
      most = Math.max(most, running);
    }
    t.ok(most <= maxInFlight, `at most ${maxInFlight} tasks ran at once (saw ${most})`);
    if (maxInFlight > 1) t.ok(most > 1, 'and more than one did run at once');
  }
});

t.test('pull-based balance: tasks queued behind a long task move to the idle worker', async (t) => {
  const sleep = pool.remote<typeof Tasks.sleepThen>(TASKS, 'sleepThen');
  const t0 = Date.now();
  const long = sleep(1500, 0);
  await new Promise((r) => setTimeout(r, 30));
  const short = await pool.get(Array.from({ length: 20 }, (_, i) => sleep(10, i + 1)));
  const shortDone = Date.now() - t0;
  const longResult = await pool.get(long);
  t.ok(shortDone < 1200, `20 short tasks finished in ${shortDone} ms, before the 1.5 s task`);
  t.ok(
    short.every((s) => s.pid !== longResult.pid),
    'all on the other worker',
  );
});

t.test('a remote exception rejects with RemoteError carrying the remote stack', async (t) => {
  const fails = pool.remote<typeof Tasks.fails>(TASKS, 'fails');
  const err = (await pool.get(fails('x')).catch((e) => e)) as RemoteError;
  t.ok(err instanceof RemoteError, 'RemoteError');
  t.equal(err.remoteName, 'CustomFailure');
  t.equal(err.remoteMessage, 'bad input: x');
  t.match(err.remoteStack, /deepThrow/, 'remote stack names the throwing function');
  t.match(err.remoteStack, /fixtures\/pool\/tasks\.ts/, 'and its file');
  t.ok(
    err.pid > 0 && err.pid !== process.pid && err.host.length > 0 && err.attempt === 1,
    'host, pid, attempt',
  );
  t.match(err.message, /tasks\.ts#fails/, 'message names the function');
  const dependent = add(fails('y'), 1);
  t.rejects(pool.get(dependent), RemoteError, 'a task whose argument failed rejects with that error');
});

t.test('retryExceptions re-runs a task that threw', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pool-retry-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const once = pool.remote<typeof Tasks.failsOnce>(TASKS, 'failsOnce', {
    retryExceptions: true,
    maxRetries: 1,
  });
  t.equal(await pool.get(once(join(dir, 'a'))), 'second attempt');
  const noRetry = pool.remote<typeof Tasks.failsOnce>(TASKS, 'failsOnce');
  await t.rejects(pool.get(noRetry(join(dir, 'b'))), /first attempt fails/, 'by default a throw is final');
});

t.test('get timeout, wait', async (t) => {
  const sleep = pool.remote<typeof Tasks.sleepThen>(TASKS, 'sleepThen');
  const slow = sleep(800, 1);
  const fast = add(2, 2);
  const err = await pool.get(slow, { timeoutMs: 50 }).catch((e) => e);
  t.ok(err instanceof GetTimeoutError, `GetTimeoutError (${err})`);
  const w = await pool.wait([slow, fast], { numReturns: 1 });
  t.same(w.ready, [fast]);
  t.same(w.pending, [slow]);
  const w0 = await pool.wait([slow], { numReturns: 1, timeoutMs: 20 });
  t.equal(w0.ready.length, 0, 'wait returns at its timeout');
  t.equal((await pool.get(slow)).sq, 1);
  const timed = pool.remote<typeof Tasks.sleepThen>(TASKS, 'sleepThen', { timeoutMs: 50 });
  await t.rejects(pool.get(timed(300, 2)), TaskTimeoutError, 'remote({ timeoutMs }) rejects the ref in time');
});

t.test('bad calls say what is wrong', async (t) => {
  t.throws(() => pool.remote('./tasks.ts', 'add'), PoolUsageError);
  t.throws(
    () => add((() => 1) as unknown as number, 1),
    PoolUsageError,
    'a function argument cannot be sent',
  );
  const missing = pool.remote(TASKS, 'noSuchExport');
  const err = (await pool.get(missing()).catch((e) => e)) as RemoteError;
  t.match(err.remoteMessage, /no exported function 'noSuchExport'/);
});

t.test('a worker killed mid-task: its tasks re-run elsewhere; past maxRetries WorkerLostError', async (t) => {
  const dies = pool.remote<typeof Tasks.dies>(TASKS, 'dies', { maxRetries: 1 });
  const err = (await pool.get(dies()).catch((e) => e)) as WorkerLostError;
  t.ok(err instanceof WorkerLostError, `WorkerLostError (${err})`);
  t.equal(err.attempts, 2, 'ran once plus one retry');
  t.equal(await pool.get(add(40, 2)), 42, 'the pool keeps working (the dead workers were replaced)');
});

t.test('SIGKILL a worker 10 times during a 1,000-task job: every result once and correct', async (t) => {
  const sleep = pool.remote<typeof Tasks.sleepThen>(TASKS, 'sleepThen', { maxRetries: 10 });
  const seen: number[] = [];
  const pids = new Set<number>();
  let kills = 0;
  const killer = (async () => {
    while (kills < 10) {
      await new Promise((r) => setTimeout(r, 150));
      const recent = [...pids].reverse();
      for (const p of recent) {
        try {
          process.kill(p, 'SIGKILL');
          kills += 1;
          pids.delete(p);
          break;
        } catch {
          pids.delete(p);
        }
      }
    }
  })();
  for await (const r of pool.map(
    sleep,
    Array.from({ length: 1000 }, (_, i) => [4, i] as [number, number]),
    {
      maxInFlight: 40,
    },
  )) {
    if (r.sq !== r.i * r.i) t.fail(`result of ${r.i} is ${r.sq}`);
    seen.push(r.i);
    pids.add(r.pid);
    if (seen.length === 1000) break;
  }
  await killer;
  t.equal(kills, 10, 'ten workers were killed');
  t.same(
    seen,
    Array.from({ length: 1000 }, (_, i) => i),
    'all 1,000 results, each once, in order',
  );
});

t.test('spmd: workers form a process group and stream events to the driver', async (t) => {
  // The kill test above may have killed a worker just before it ended: wait for its replacement.
  const deadline = Date.now() + 60_000;
  while (Number((await pool.status()).workers) < 2 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  const events: Array<{ value: unknown; rank: number }> = [];
  const out = await pool.spmd<{ rank: number; sum: number; size: number }>(
    TASKS,
    'allReduceRanks',
    { ranks: 2, onEvent: (value, rank) => events.push({ value, rank }) },
    3,
  );
  t.same(out, [
    { rank: 0, sum: 3, size: 2 },
    { rank: 1, sum: 3, size: 2 },
  ]);
  t.equal(events.length, 6, 'three events from each rank');
  t.same(
    events.filter((e) => e.rank === 1).map((e) => (e.value as { epoch: number }).epoch),
    [0, 1, 2],
  );
  await t.rejects(pool.spmd(TASKS, 'allReduceRanks', { ranks: 5 }, 1), /needs 5 workers/);
  const err = (await pool.spmd(TASKS, 'rankOneFails', { ranks: 2 }).catch((e) => e)) as RemoteError;
  t.ok(err instanceof RemoteError, 'a failing rank rejects spmd');
  t.equal(err.remoteMessage, 'rank 1 gives up', 'with the root cause, not the peer’s echo');
  t.equal(await pool.get(add(1, 1)), 2, 'and the workers are free again');
});
