import t from 'tap';
import { soloGroup } from '../experiments/pneumonia/group.js';
import { runRanksWith } from '../src/testing/run-ranks.js';
import { type StepOutcome, stepOnShare } from './helpers/pneumonia-sync-bn.js';

// --sync-bn on real rank processes: 2 and 3 ranks, each with its strided share of the torch parity
// batch (6 images), must form the same batch-norm moments as one process on the whole batch (so the
// same running statistics) and, summed count-weighted as train.ts does, the same gradient. The
// per-rank batch norm is run the same way to show the comparison can fail: its statistics differ.

const MODULE = new URL('./helpers/pneumonia-sync-bn.ts', import.meta.url);

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  let scale = 1e-6;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst / scale;
}

/** The global batch's mean-loss gradient from the ranks' local ones, as train.ts's allReduce forms it. */
function combined(ranks: StepOutcome[]): Float32Array {
  const total = ranks.reduce((s, r) => s + r.count, 0);
  const out = new Float32Array(ranks[0].grads.length);
  for (const r of ranks) for (let i = 0; i < out.length; i++) out[i] += (r.grads[i] * r.count) / total;
  return out;
}

const one = await stepOnShare(soloGroup, true);
const plain = await stepOnShare(soloGroup, false);

t.test('one rank: --sync-bn gives the per-rank batch norm step (statistics and gradient)', async (t) => {
  t.ok(maxRelDiff(one.running, plain.running) < 1e-6, 'running statistics');
  t.ok(maxRelDiff(one.grads, plain.grads) < 1e-5, 'gradient');
  t.ok(Math.abs(one.loss - plain.loss) < 1e-5, 'loss');
});

for (const n of [2, 3]) {
  t.test(`${n} ranks with --sync-bn: the batch statistics and gradient of one rank`, async (t) => {
    const ranks = await runRanksWith<StepOutcome>({ timeoutMs: 240_000 }, n, MODULE, 'stepOnRank', true);
    t.equal(ranks.length, n);
    for (const r of ranks) {
      const d = maxRelDiff(r.running, one.running);
      t.ok(
        d < 1e-6,
        `rank ${r.rank}: running mean/var equal one rank's (relative max diff ${d.toExponential(2)})`,
      );
    }
    const d = maxRelDiff(combined(ranks), one.grads);
    t.ok(d < 1e-5, `combined gradient equals one rank's (relative max diff ${d.toExponential(2)})`);
  });
}

t.test('3 ranks with --sync-bn on a 2-image batch: the rank without images still joins', async (t) => {
  const small = await stepOnShare(soloGroup, true, 2);
  const ranks = await runRanksWith<StepOutcome>({ timeoutMs: 240_000 }, 3, MODULE, 'stepOnRank', true, 2);
  t.same(
    ranks.map((r) => r.count),
    [1, 1, 0],
  );
  for (const r of ranks)
    t.ok(maxRelDiff(r.running, small.running) < 1e-6, `rank ${r.rank}: running statistics`);
  const d = maxRelDiff(combined(ranks), small.grads);
  t.ok(d < 1e-5, `combined gradient equals one rank's (relative max diff ${d.toExponential(2)})`);
});

t.test(
  '2 ranks without --sync-bn: per-rank statistics differ from one rank (the check can fail)',
  async (t) => {
    const ranks = await runRanksWith<StepOutcome>({ timeoutMs: 240_000 }, 2, MODULE, 'stepOnRank', false);
    for (const r of ranks) {
      const d = maxRelDiff(r.running, one.running);
      t.ok(
        d > 1e-4,
        `rank ${r.rank}: running statistics from its share only (relative diff ${d.toExponential(2)})`,
      );
    }
  },
);
