/**
 * Task-pool benchmark (embedded pool, 2 workers): no-op tasks/s through map and through
 * submit-all-then-get, single-task round trip, put and get of 1 MiB and 64 MiB. When /usr/bin/python3
 * has Dask, runs bench/peers/dask_tasks.py 2 in the same run and prints the ratios.
 * Prints JSON lines. usage: npx tsx bench/tasks.ts [TASKS] [--no-peer] (default 20000 tasks)
 * Also runs as the driver of a `tsrun --pool` job or against a cluster (TSRUN_POOL_ADDRESS): connect()
 * attaches to that pool instead of starting one (how the dashboard's overhead was measured).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { checkPythonPeer, DEFAULT_PEER_PYTHON, PEERS_DIR } from '../experiments/common/python-peer.js';
import { connect } from '../src/pool/index.js';
import type * as Fns from './tasks-fns.js';

const WORKERS = 2;
const TASKS = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 20_000);
const NO_PEER = process.argv.includes('--no-peer');
const FNS = new URL('./tasks-fns.ts', import.meta.url);
const PEER = join(PEERS_DIR, 'dask_tasks.py');
const PYTHON = DEFAULT_PEER_PYTHON;

const results: Record<string, number> = {};
function emit(metric: string, value: number, extra: Record<string, unknown> = {}): void {
  results[metric + (extra.via ? `:${extra.via}` : '') + (extra.bytes ? `:${extra.bytes}` : '')] = value;
  console.log(JSON.stringify({ peer: 'tsrun', metric, workers: WORKERS, ...extra, value }));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const pool = await connect({ workers: WORKERS });
try {
  const noop = pool.remote<typeof Fns.noop>(FNS, 'noop');
  await pool.get(Array.from({ length: 200 }, (_, i) => noop(i))); // warm-up: modules loaded everywhere

  let t0 = performance.now();
  const refs = Array.from({ length: TASKS }, (_, i) => noop(i));
  await pool.get(refs);
  emit('noop_tasks_per_sec', TASKS / ((performance.now() - t0) / 1000), { via: 'submit-all', tasks: TASKS });

  t0 = performance.now();
  let n = 0;
  for await (const _ of pool.map(
    noop,
    Array.from({ length: TASKS }, (_, i) => [i] as [number]),
    { maxInFlight: 2000 },
  ))
    n++;
  emit('noop_tasks_per_sec', n / ((performance.now() - t0) / 1000), {
    via: 'map',
    tasks: n,
    maxInFlight: 2000,
  });

  const rtts: number[] = [];
  for (let i = 0; i < 500; i++) {
    const t = performance.now();
    await pool.get(noop(i));
    rtts.push((performance.now() - t) / 1000);
  }
  emit('task_roundtrip_sec', median(rtts));

  const firstOf = pool.remote<typeof Fns.firstOf>(FNS, 'firstOf');
  const filled = pool.remote<typeof Fns.filled>(FNS, 'filled');
  for (const bytes of [1 << 20, 64 << 20]) {
    const reps = bytes > 1 << 20 ? 3 : 20;
    const puts: number[] = [];
    const reads: number[] = [];
    const gets: number[] = [];
    const data = new Float64Array(bytes / 8).fill(2);
    for (let r = 0; r < reps; r++) {
      let t = performance.now();
      const ref = pool.put(data);
      puts.push((performance.now() - t) / 1000);
      t = performance.now();
      await pool.get(firstOf(ref)); // the put's bytes travel to a worker
      reads.push((performance.now() - t) / 1000);
      const made = filled(bytes);
      await pool.wait([made]);
      t = performance.now();
      await pool.get(made); // a worker-held result travels to the driver
      gets.push((performance.now() - t) / 1000);
    }
    emit('put_sec', median(puts), { bytes });
    emit('put_then_task_read_sec', median(reads), { bytes });
    emit('get_from_worker_sec', median(gets), { bytes });
  }
} finally {
  await pool.close();
}

const peerCheck = NO_PEER ? undefined : checkPythonPeer(PYTHON, ['dask.distributed']);
if (peerCheck?.ok) {
  const out = execFileSync(PYTHON, [PEER, String(WORKERS)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  for (const line of out.trim().split('\n')) {
    console.log(line);
    const r = JSON.parse(line) as { metric: string; value: number };
    if (r.metric === 'noop_tasks_per_sec') {
      console.log(
        JSON.stringify({
          ratio: 'tsrun/dask',
          metric: r.metric,
          via: 'submit-all',
          value: results['noop_tasks_per_sec:submit-all'] / r.value,
        }),
      );
    } else if (r.metric === 'task_roundtrip_sec') {
      console.log(
        JSON.stringify({
          ratio: 'dask/tsrun',
          metric: r.metric,
          value: r.value / results.task_roundtrip_sec,
        }),
      );
    }
  }
} else if (peerCheck && !peerCheck.ok) {
  console.error(`bench/tasks: peer dask-distributed skipped: ${peerCheck.reason}`);
}
