// Actors on an embedded pool with real worker processes: state across calls, submission order under
// concurrency, maxConcurrency, refs in and out, a throwing constructor, kill, names, and a SIGKILLed
// actor process with maxRestarts 0 and 1 and with maxTaskRetries.
import t from 'tap';
import {
  ActorDiedError,
  ActorNotFoundError,
  connect,
  PoolUsageError,
  RemoteError,
} from '../src/pool/index.js';
import type * as Actors from './fixtures/pool/actors.js';
import type * as Tasks from './fixtures/pool/tasks.js';

const ACTORS = new URL('./fixtures/pool/actors.ts', import.meta.url);
const TASKS = new URL('./fixtures/pool/tasks.ts', import.meta.url);

t.test('actors on an embedded pool', async (t) => {
  const pool = await connect({ workers: 2 });
  t.teardown(() => pool.close());
  const Counter = pool.actorClass<typeof Actors.Counter>(ACTORS, 'Counter');

  t.test('state kept across calls; calls run in submission order', async (t) => {
    const c = Counter.create(10);
    await c.ready();
    t.equal(await pool.get(c.call('incr', 5)), 15);
    t.equal(await pool.get(c.methods.incr(2)), 17, 'typed sugar reaches the same instance');
    const refs = Array.from({ length: 300 }, (_, i) => c.methods.append(i));
    t.same(
      await pool.get(refs),
      Array.from({ length: 300 }, (_, i) => i + 1),
    );
    t.same(
      await pool.get(c.methods.getLog()),
      Array.from({ length: 300 }, (_, i) => i),
      '300 calls submitted at once ran one by one in order',
    );
    const err = await pool.get(c.methods.fail()).catch((e) => e);
    t.ok(
      err instanceof RemoteError && err.remoteName === 'RangeError',
      `a throwing method gives RemoteError (${err})`,
    );
    t.equal(await pool.get(c.methods.incr(1)), 18, 'the actor lives on after a method threw');
    await c.kill();
  });

  t.test('async methods: one at a time by default, maxConcurrency at once when asked', async (t) => {
    const one = Counter.create();
    const many = pool.actorClass<typeof Actors.Counter>(ACTORS, 'Counter', { maxConcurrency: 3 }).create();
    const a = Array.from({ length: 6 }, (_, i) => one.methods.slowEcho(i, 30));
    const b = Array.from({ length: 9 }, (_, i) => many.methods.slowEcho(i, 60));
    t.same(await pool.get(a), [0, 1, 2, 3, 4, 5]);
    t.same(await pool.get(b), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const o1 = await pool.get(one.methods.overlap());
    const o3 = await pool.get(many.methods.overlap());
    t.equal(o1.maxActive, 1, 'default: calls never overlap');
    t.same(o1.started, [0, 1, 2, 3, 4, 5]);
    t.equal(o3.maxActive, 3, 'maxConcurrency 3: three calls overlap');
    t.same(o3.started, [0, 1, 2, 3, 4, 5, 6, 7, 8], 'started in submission order');
    await one.kill();
    await many.kill();
  });

  t.test('refs as arguments and results, actor results as task arguments', async (t) => {
    const c = Counter.create();
    const big = pool.put(new Float64Array(50_000).fill(2));
    t.equal(await pool.get(c.methods.sum(big)), 100_000, 'a put ref as a call argument');
    const filled = c.methods.filled(40_000, 3); // 320 kB: stays in the actor's worker
    const total = pool.remote<typeof Tasks.sum>(TASKS, 'sum')(filled);
    t.equal(await pool.get(total), 120_000, "an actor call's result ref as a task argument");
    const viaTask = pool.remote<typeof Tasks.ones>(TASKS, 'ones')(30_000);
    t.equal(await pool.get(c.methods.sum(viaTask)), 30_000, "a task's result ref as a call argument");
    t.equal((await pool.get(filled)).length, 40_000);
    await c.kill();
  });

  t.test('a constructor that throws', async (t) => {
    const Broken = pool.actorClass(ACTORS, 'Broken'); // untyped: the test calls a method it lacks
    const b = Broken.create('test');
    const err = await b.ready().catch((e) => e);
    t.ok(err instanceof RemoteError, `ready() rejects with RemoteError (${err})`);
    t.match(err.message, /constructor failed on purpose: test/);
    const later = (await pool.get(b.call('anything')).catch((e) => e)) as ActorDiedError;
    t.ok(later instanceof ActorDiedError, `calls after it reject with ActorDiedError (${later})`);
    t.match(later.message, /constructor threw/);
    const missing = pool.actorClass(ACTORS, 'Nope').create();
    t.match(String(await missing.ready().catch((e) => e)), /no exported class 'Nope'/);
  });

  t.test('kill', async (t) => {
    const c = Counter.create();
    t.equal(await pool.get(c.methods.incr(1)), 1);
    const slow = c.methods.slowEcho(1, 5000);
    await new Promise((r) => setTimeout(r, 100));
    await c.kill();
    const inflight = await pool.get(slow).catch((e) => e);
    t.ok(inflight instanceof ActorDiedError, `a call in flight rejects (${inflight})`);
    const after = await pool.get(c.methods.incr(1)).catch((e) => e);
    t.ok(after instanceof ActorDiedError, `a later call rejects (${after})`);
    t.match(after.message, /killed/);
  });

  t.test('names', async (t) => {
    const named = pool.actorClass<typeof Actors.Counter>(ACTORS, 'Counter', { name: 'ctr' }).create(7);
    await named.ready();
    const same = await pool.getActor<Actors.Counter>('ctr');
    t.equal(await pool.get(same.methods.incr(1)), 8, 'getActor reaches the same instance');
    await same.ready();
    const dup = pool.actorClass(ACTORS, 'Counter', { name: 'ctr' }).create();
    t.match(String(await dup.ready().catch((e) => e)), /already exists/);
    const none = await pool.getActor('nobody').catch((e) => e);
    t.ok(none instanceof ActorNotFoundError, `unknown name (${none})`);
    await named.kill();
    const gone = await pool.getActor('ctr').catch((e) => e);
    t.ok(gone instanceof ActorNotFoundError, 'a killed actor is not found by name');
    t.throws(() => pool.actorClass(ACTORS, 'Counter', { maxConcurrency: 0 }), PoolUsageError);
    t.throws(() => pool.actorClass('./actors.ts', 'Counter'), /by URL/);
  });

  t.test('tasks run beside an actor: it holds one worker, tasks use the other', async (t) => {
    const c = Counter.create();
    const actorPid = await pool.get(c.methods.pid());
    const square = pool.remote<typeof Tasks.square>(TASKS, 'square');
    const res = await pool.get(Array.from({ length: 20 }, (_, i) => square(i)));
    t.same(
      res.map((r) => r.sq),
      Array.from({ length: 20 }, (_, i) => i * i),
    );
    t.notOk(
      res.some((r) => r.pid === actorPid),
      'no task ran on the actor’s worker',
    );
    await c.kill();
  });

  t.test('SIGKILL of the actor process, maxRestarts 0: ActorDiedError with host and pid', async (t) => {
    const c = Counter.create();
    const pid = await pool.get(c.methods.pid());
    const slow = c.methods.slowEcho(1, 20_000);
    await new Promise((r) => setTimeout(r, 200));
    process.kill(pid, 'SIGKILL');
    const err = await pool.get(slow).catch((e) => e);
    t.ok(err instanceof ActorDiedError, `the call in flight rejects with ActorDiedError (${err})`);
    t.equal(err.pid, pid, 'names the dead process');
    t.ok(err.host, 'and its host');
    t.match(err.message, /SIGKILL|lost|died|exited/);
    const after = await pool.get(c.methods.incr(1)).catch((e) => e);
    t.ok(after instanceof ActorDiedError, 'later calls reject too');
  });

  t.test('SIGKILL with maxRestarts 1: the constructor re-runs and a new instance answers', async (t) => {
    const R = pool.actorClass<typeof Actors.Counter>(ACTORS, 'Counter', { maxRestarts: 1 });
    const c = R.create(100);
    t.equal(await pool.get(c.methods.incr(1)), 101);
    const pid = await pool.get(c.methods.pid());
    const slow = c.methods.slowEcho(1, 20_000);
    await new Promise((r) => setTimeout(r, 200));
    process.kill(pid, 'SIGKILL');
    const err = await pool.get(slow).catch((e) => e);
    t.ok(err instanceof ActorDiedError, `without maxTaskRetries the call in flight fails (${err})`);
    t.equal(await pool.get(c.methods.incr(1)), 101, 'restarted from its constructor arguments');
    const pid2 = await pool.get(c.methods.pid());
    t.not(pid2, pid, 'in another process');
    process.kill(pid2, 'SIGKILL');
    const dead = await pool.get(c.methods.incr(1)).catch((e) => e);
    t.ok(dead instanceof ActorDiedError, `the second death exceeds maxRestarts 1 (${dead})`);
  });

  t.test('maxTaskRetries: a call in flight runs again on the restarted actor', async (t) => {
    const R = pool.actorClass<typeof Actors.Counter>(ACTORS, 'Counter', {
      maxRestarts: 1,
      maxTaskRetries: 1,
    });
    const c = R.create();
    const pid = await pool.get(c.methods.pid());
    const slow = c.methods.slowEcho(7, 1500);
    const next = c.methods.incr(1);
    await new Promise((r) => setTimeout(r, 200));
    process.kill(pid, 'SIGKILL');
    t.equal(await pool.get(slow), 7, 'the call in flight was retried');
    t.equal(await pool.get(next), 1, 'the call queued behind it ran after it, on the new instance');
    await c.kill();
  });
});
