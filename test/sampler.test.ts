import t from 'tap';
import { DistributedSampler } from '../src/data/sampler.js';

const shares = (n: number, size: number, epoch: number, seed = 3) =>
  Array.from({ length: size }, (_, rank) =>
    Array.from(new DistributedSampler(n, { rank, size, seed }).indices(epoch)),
  );

t.test('ranks get disjoint shares that cover the set when n divides evenly', async (t) => {
  const s = shares(12, 3, 0);
  t.same(
    s.map((x) => x.length),
    [4, 4, 4],
  );
  t.same(
    s.flat().sort((a, b) => a - b),
    Array.from({ length: 12 }, (_, i) => i),
    'complete and disjoint',
  );
});

t.test('uneven n is padded so every rank gets ceil(n/size), repeating only padding', async (t) => {
  const s = shares(10, 4, 2);
  t.same(
    s.map((x) => x.length),
    [3, 3, 3, 3],
  );
  const all = s.flat();
  t.equal(new Set(all).size, 10, 'every index appears');
  t.equal(all.length - new Set(all).size, 2, 'exactly the 2 padding samples repeat');
});

t.test('permutation is identical on all ranks and changes with the epoch', async (t) => {
  const a = new DistributedSampler(100, { rank: 0, size: 2, seed: 9 });
  const b = new DistributedSampler(100, { rank: 1, size: 2, seed: 9 });
  t.same(Array.from(a.order(4)), Array.from(b.order(4)), 'same order on both ranks');
  t.notSame(Array.from(a.order(4)), Array.from(a.order(5)), 'epoch changes the order');
  t.notSame(
    Array.from(a.order(4)),
    Array.from(new DistributedSampler(100, { rank: 0, size: 2, seed: 10 }).order(4)),
  );
  t.same(Array.from(a.indices(4)), Array.from(a.indices(4)), 'deterministic');
  const sorted = Array.from(a.order(1)).sort((x, y) => x - y);
  t.same(
    sorted,
    Array.from({ length: 100 }, (_, i) => i),
    'a permutation',
  );
});

t.test('shuffle off gives the strided identity; tiny sets wrap around', async (t) => {
  t.same(Array.from(new DistributedSampler(5, { rank: 1, size: 2, shuffle: false }).indices(0)), [1, 3, 0]);
  const s = shares(2, 4, 0);
  t.same(
    s.map((x) => x.length),
    [1, 1, 1, 1],
  );
});

t.test('bad arguments are rejected with the value named', async (t) => {
  t.throws(() => new DistributedSampler(10, { rank: 2, size: 2 }), /rank 2 is outside 0..1/);
  t.throws(() => new DistributedSampler(-1, { rank: 0, size: 1 }), /non-negative/);
});

t.test('batchShare: the ranks of a step together hold exactly the one-process batch', async (t) => {
  for (const size of [1, 2, 3]) {
    const samplers = Array.from(
      { length: size },
      (_, rank) => new DistributedSampler(37, { rank, size, seed: 4 }),
    );
    const one = new DistributedSampler(37, { rank: 0, size: 1, seed: 4 });
    t.equal(samplers[0].batchesPerEpoch(16), 3);
    for (let step = 0; step < 3; step++) {
      const whole = Array.from(one.batchShare(2, 16, step)).sort((a, b) => a - b);
      const parts = samplers.map((s) => Array.from(s.batchShare(2, 16, step)));
      t.same(
        parts.flat().sort((a, b) => a - b),
        whole,
        `${size} ranks, step ${step}`,
      );
      const lens = parts.map((p) => p.length);
      t.ok(Math.max(...lens) - Math.min(...lens) <= 1, `shares differ by ≤ 1 (${lens})`);
    }
  }
  t.throws(() => new DistributedSampler(5, { rank: 0, size: 1 }).batchShare(0, 0, 0), /batch must be ≥ 1/);
});
