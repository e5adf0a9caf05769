import t from 'tap';
import { runRanksSettled } from 'tsrun/testing';
import type { Observed } from './fixtures/spmd/faults.js';

const MODULE = new URL('./fixtures/spmd/faults.ts', import.meta.url);

t.test('a rank calling another collective: CollectiveMismatchError naming both calls, fast', async (t) => {
  const out = await runRanksSettled<Observed | null>({ timeoutMs: 60_000 }, 3, MODULE, 'mismatch', 'op');
  for (const o of out) {
    t.ok(o.ok, `rank ${o.rank} returned`);
    const v = o.ok ? o.value : null;
    t.equal(v?.name, 'CollectiveMismatchError', `rank ${o.rank}: ${v?.message}`);
    t.ok((v?.ms ?? 1e9) < 2000, `rank ${o.rank} failed within 2 s (${v?.ms} ms)`);
  }
  const msg = out.map((o) => (o.ok ? (o.value?.message ?? '') : '')).join('\n');
  t.match(msg, /allReduce\(Float32, length 8, op 'sum'\)/, 'names the all-reduce call');
  t.match(msg, /broadcast\(Float32, length 8, root 0\)/, 'names the broadcast call');
});

t.test('different lengths: CollectiveMismatchError names both lengths', async (t) => {
  const out = await runRanksSettled<Observed | null>({ timeoutMs: 60_000 }, 2, MODULE, 'mismatch', 'length');
  const msgs = out.map((o) => (o.ok ? o.value : null));
  for (const m of msgs) t.equal(m?.name, 'CollectiveMismatchError');
  t.match(msgs[0]?.message ?? '', /length 8[\s\S]*length 9|length 9[\s\S]*length 8/);
});

t.test('a rank that never calls: CollectiveTimeoutError naming it', async (t) => {
  const out = await runRanksSettled<Observed | null>({ timeoutMs: 60_000 }, 3, MODULE, 'timeout', 1500);
  for (const o of out.slice(0, 2)) {
    const v = o.ok ? o.value : null;
    t.equal(v?.name, 'CollectiveTimeoutError', `rank ${o.rank}: ${v?.message}`);
    t.match(v?.message ?? '', /rank 2/, 'names the silent rank');
    t.ok((v?.ms ?? 0) >= 1400 && (v?.ms ?? 1e9) < 6000, `after about the timeout (${v?.ms} ms)`);
  }
});

for (const world of [2, 4]) {
  t.test(
    `a rank SIGKILLed mid-collective (${world} ranks): survivors get PeerLostError within 10 s`,
    async (t) => {
      const t0 = Date.now();
      const out = await runRanksSettled<Observed | null>({ timeoutMs: 60_000 }, world, MODULE, 'killedPeer');
      const victim = out[world - 1];
      t.notOk(victim.ok, 'the victim died');
      if (!victim.ok) t.match(victim.error.message, /SIGKILL/);
      for (const o of out.slice(0, world - 1)) {
        const v = o.ok ? o.value : null;
        t.equal(v?.name, 'PeerLostError', `rank ${o.rank}: ${v?.message}`);
        t.match(v?.message ?? '', new RegExp(`rank ${world - 1}`), 'names the lost rank');
      }
      t.ok(Date.now() - t0 < 30_000, 'the whole run ended promptly');
    },
  );
}
