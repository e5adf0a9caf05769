/**
 * Actor benchmark (embedded pool, 2 workers): calls/s from 1 caller to 1 actor, sync (await each call
 * before the next) and async (submit many, then get all), with sync and async methods, and the call
 * round trip. Ray is not installable here (no PyPI), so its published microbenchmark figures (64-vCPU
 * head: 1:1 actor calls sync 2,012/s, async 8,664/s) are printed as a fixed reference with the goals
 * (≥ 3,000 sync, ≥ 15,000 async). Prints JSON lines; quote `uptime` next to any figure.
 * usage: npx tsx bench/actors.ts [CALLS] (default 20000); ORDER=echoAsync,echo reorders the sync phases
 */
import { loadavg } from 'node:os';
import { connect } from '../src/pool/index.js';
import type * as Fns from './actors-fns.js';

const WORKERS = 2;
const CALLS = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 20_000);
const FNS = new URL('./actors-fns.ts', import.meta.url);
const RAY_PUBLISHED = { sync: 2012, async: 8664 };
const GOALS = { sync: 3000, async: 15000 };

function emit(metric: string, value: number, extra: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ peer: 'tsrun', metric, workers: WORKERS, ...extra, value }));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const pool = await connect({ workers: WORKERS });
try {
  const Echo = pool.actorClass<typeof Fns.Echo>(FNS, 'Echo');
  const a = Echo.create();
  await a.ready();
  // Warm-up, both ways and both methods: whichever sync phase ran first was ~35% slower (0.43 against
  // 0.29 ms a call) when only the async way and one method were warmed.
  await pool.get(Array.from({ length: 2000 }, (_, i) => a.methods.echo(i)));
  for (let i = 0; i < 2000; i++) await pool.get(a.methods.echo(i));
  for (let i = 0; i < 2000; i++) await pool.get(a.methods.echoAsync(i));

  const syncCalls = Math.max(1000, Math.floor(CALLS / 4));
  for (const method of (process.env.ORDER ?? 'echo,echoAsync').split(',') as Array<'echo' | 'echoAsync'>) {
    const rtts: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < syncCalls; i++) {
      const t = performance.now();
      await pool.get(a.call(method, i));
      rtts.push(performance.now() - t);
    }
    const perSec = syncCalls / ((performance.now() - t0) / 1000);
    emit('actor_calls_per_sec', perSec, {
      via: 'sync',
      method,
      calls: syncCalls,
      goal: GOALS.sync,
      ray: RAY_PUBLISHED.sync,
    });
    emit('actor_roundtrip_sec', median(rtts) / 1000, { method });
  }
  for (const method of ['echo', 'echoAsync'] as const) {
    const t0 = performance.now();
    const refs = Array.from({ length: CALLS }, (_, i) => a.call(method, i));
    await pool.get(refs);
    const perSec = CALLS / ((performance.now() - t0) / 1000);
    emit('actor_calls_per_sec', perSec, {
      via: 'async',
      method,
      calls: CALLS,
      goal: GOALS.async,
      ray: RAY_PUBLISHED.async,
    });
  }
  await a.kill();
  // The same run's task round trip, the reference an actor call should match (same machine, same load).
  const noop = pool.remote<typeof Fns.noop>(FNS, 'noop');
  await pool.get(Array.from({ length: 200 }, (_, i) => noop(i)));
  const rtts: number[] = [];
  for (let i = 0; i < syncCalls; i++) {
    const t = performance.now();
    await pool.get(noop(i));
    rtts.push(performance.now() - t);
  }
  emit('task_roundtrip_sec', median(rtts) / 1000);
  emit('loadavg_1min', loadavg()[0]);
} finally {
  await pool.close();
}
