// Index math of the topology-aware collectives (collectives/algorithms/host-layout.ts, sub-comm.ts) and the
// selector's choice of the hierarchical all-reduce; its results are checked with every other all-reduce in
// collectives-algorithms.test.ts, and across real hosts in collectives-hierarchical.test.ts.
import t from 'tap';
import { hostIndices, hostLayout, spansHostsWithSharing } from '../collectives/algorithms/host-layout.js';
import * as select from '../collectives/algorithms/select.js';
import { subComm } from '../collectives/algorithms/sub-comm.js';
import { MemoryWorld } from './helpers/memory-comm.js';

t.test('hostIndices numbers hosts in order of first appearance', async (t) => {
  t.same(hostIndices(['b#1', 'a#1', 'b#1', 'c#2', 'a#1']), [0, 1, 0, 2, 1]);
  t.same(hostIndices([]), []);
});

t.test('hostLayout: this host’s ranks and every host’s leader', async (t) => {
  const hosts = [0, 1, 0, 2, 1, 1];
  t.same(hostLayout(hosts, 0), { local: [0, 2], leaders: [0, 1, 3] }, 'uneven hosts: no column');
  t.same(hostLayout(hosts, 4), { local: [1, 4, 5], leaders: [0, 1, 3] });
  t.same(hostLayout(hosts, 3), { local: [3], leaders: [0, 1, 3] });
  const even = [1, 0, 1, 0, 2, 2];
  t.same(hostLayout(even, 2), { local: [0, 2], leaders: [0, 1, 4], column: [2, 3, 5] });
  t.same(hostLayout(even, 1), { local: [1, 3], leaders: [0, 1, 4], column: [0, 1, 4] });
});

t.test('hierarchical only when several hosts and one of them shares', async (t) => {
  t.notOk(spansHostsWithSharing(undefined));
  t.notOk(spansHostsWithSharing([0, 0, 0, 0]), 'one host');
  t.notOk(spansHostsWithSharing([0, 1, 2]), 'one rank per host');
  t.ok(spansHostsWithSharing([0, 0, 1, 1]));
  t.ok(spansHostsWithSharing([0, 1, 1]));
  const big = 16 << 20;
  t.equal(select.allReduceAlgorithm(big, 4, big / 4, [0, 0, 1, 1]), 'hierarchical');
  t.equal(select.allReduceAlgorithm(big, 4, big / 4, [0, 1, 2, 3]), 'ring');
  t.equal(select.allReduceAlgorithm(big, 4, big / 4), 'ring');
  t.equal(select.allReduceAlgorithm(1024, 4, 256, [0, 0, 1, 1]), 'recursive-doubling', 'small stays flat');
});

t.test('subComm renumbers a subset and maps peers back', async (t) => {
  const got = await new MemoryWorld(5).run(async (comm) => {
    const members = [4, 1, 3];
    if (!members.includes(comm.rank)) return null;
    const sub = subComm(comm, members);
    const right = (sub.rank + 1) % sub.size;
    const left = (sub.rank + sub.size - 1) % sub.size;
    await sub.send(right, 7, new Uint8Array([comm.rank]));
    const from = await sub.recv(left, 7);
    return { sub: sub.rank, size: sub.size, from: from[0] };
  });
  t.same(got, [
    null,
    { sub: 1, size: 3, from: 4 },
    null,
    { sub: 2, size: 3, from: 1 },
    { sub: 0, size: 3, from: 3 },
  ]);
  t.throws(() => subComm(new MemoryWorld(2).comms[0], [1]), /rank 0 is not among 1/);
});

t.test('select.allReduce takes the hierarchical path for a large vector on 2 hosts x 2 ranks', async (t) => {
  const n = 20_000; // 160 KiB of Float64: above the recursive-doubling limit
  const notes: string[] = [];
  const out = await new MemoryWorld(4).run(async (comm) => {
    const phase = (k: number) => ({
      ...comm,
      send: (p: number, s: number, d: Uint8Array) => comm.send(p, (k << 24) + s, d),
      recv: (p: number, s: number) => comm.recv(p, (k << 24) + s),
    });
    const c = { ...comm, hosts: [0, 0, 1, 1], note: (a: string) => void notes.push(a) };
    const x = new Float64Array(n).map((_, i) => comm.rank + i);
    await select.allReduce(c, x, 'avg', phase);
    return [x[0], x[n - 1]];
  });
  t.same(notes, Array(4).fill('allreduce-hierarchical'));
  t.same(out, Array(4).fill([1.5, 1.5 + n - 1]));
});
