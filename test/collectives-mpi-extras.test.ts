import t from 'tap';
import { runRanksSettled, runRanksWith } from 'tsrun/testing';
import type { ExtrasResult } from './fixtures/spmd/mpi-extras.js';

const MODULE = new URL('./fixtures/spmd/mpi-extras.ts', import.meta.url);

for (const world of [1, 2, 3, 4, 5]) {
  t.test(
    `scan, exscan, allReduceLoc, scatterObject, allToAllObject on ${world} real rank(s) and a sub-group`,
    async (t) => {
      const results = await runRanksWith<ExtrasResult>({ timeoutMs: 240_000 }, world, MODULE, 'extras');
      for (const [r, res] of results.entries()) {
        t.ok(res.checks >= 130, `rank ${r} ran ${res.checks} checks`);
        t.same(res.failures, [], `rank ${r}: every result equals the plain computation`);
      }
    },
  );
}

type Seen = { name: string; message: string } | null;

t.test('mismatched calls of the new collectives fail with CollectiveMismatchError naming both', async (t) => {
  const cases: Array<[string, RegExp]> = [
    [
      'op',
      /scan\(Int32, length 4, op 'sum'\)[\s\S]*exscan\(Int32, length 4, op 'sum'\)|exscan[\s\S]*scan\(Int32/,
    ],
    ['length', /different lengths/],
    ['root', /different roots/],
  ];
  for (const [kind, re] of cases) {
    const out = await runRanksSettled<Seen>({ timeoutMs: 180_000 }, 3, MODULE, 'mismatch', kind);
    // Only ranks that exchange messages with the odd rank in that call are sure to see it: in a 3-rank
    // scan rank 1 talks to rank 0 alone and may finish first; with different roots the two would-be
    // roots only send (as in scatter and in MPI), and the rank that waits on both detects it.
    const sure = kind === 'op' ? [out[0], out[2]] : kind === 'root' ? [out[2]] : out;
    for (const o of sure) {
      const v = o.ok ? o.value : null;
      t.equal(v?.name, 'CollectiveMismatchError', `${kind}: rank ${o.rank}: ${v?.message}`);
    }
    t.match(out.map((o) => (o.ok ? o.value?.message : '')).join('\n'), re, `${kind}: the message says why`);
  }
});

t.test('a rank that never calls allToAllObject: CollectiveTimeoutError naming it', async (t) => {
  const out = await runRanksSettled<Seen>({ timeoutMs: 180_000 }, 3, MODULE, 'neverCalls', 1500);
  for (const o of out.slice(0, 2)) {
    const v = o.ok ? o.value : null;
    t.equal(v?.name, 'CollectiveTimeoutError', `rank ${o.rank}: ${v?.message}`);
    t.match(v?.message ?? '', /allToAllObject.*rank 2 never called it/);
  }
});
