import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { soloGroup } from '../experiments/pneumonia/group.js';
import { connect } from '../src/pool/index.js';
import { runRanksWith } from '../src/testing/run-ranks.js';
import { type RunOutcome, type RunSpec, trainAll } from './helpers/pneumonia-runs.js';
import { CI_FLAGS, CI_SEEDS, CI_SETS } from './helpers/pneumonia-sets.js';

// Issue 17: distributed training must generalize like one process. Both generated sets (xray and
// radiograph), seeds 0-2, trained at 32 px on 1 rank (in this process), 2 and 3 SPMD ranks (real rank
// processes, runRanks) and 2 and 3 pool workers (pool.spmd), with the same flags and --batch as the
// global batch. Every distributed run must land within BOUND of the one-process run, and every run at
// or above FLOOR (a one-process run that fails to learn would make the comparison empty).
//
// Why BOUND is 5 points and not 3: each test set has 80 images, so one image is 1.25 points and 3
// points is 2 images. Without --sync-bn the ranks normalise with their own share's moments, so the
// distributed run is a different (equally valid) trajectory from the one-process run, and two models
// that agree on 93% of images differ on a few of the 80 by chance alone. 5 points = 4 images. Issue
// 17's failure (60% against 93.75%) is 27 points off and fails both checks.
const BOUND = 0.05;
// The lowest run measured is 82.5%; the margin is for CPUs whose XNNPACK kernels round differently.
const FLOOR = 0.75;

const MODULE = new URL('./helpers/pneumonia-runs.ts', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'tsrun-pneumonia-equiv-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const runs: RunSpec[] = [];
for (const [name, make] of Object.entries(CI_SETS)) {
  await make(join(dir, name));
  for (const seed of CI_SEEDS) runs.push({ input: join(dir, name), seed, ...CI_FLAGS });
}
const label = (r: RunSpec) => `${r.input.split('/').pop()} seed ${r.seed}`;
const pct = (a: number) => `${(a * 100).toFixed(2)}%`;
const one = await trainAll(runs, soloGroup);

t.test('one process learns both sets', async (t) => {
  for (const [i, r] of runs.entries()) {
    t.ok(one[i].accuracy >= FLOOR, `1 rank ${label(r)}: ${pct(one[i].accuracy)} ≥ ${pct(FLOOR)}`);
  }
});

function compare(t: Test, style: string, n: number, got: RunOutcome[]): void {
  t.equal(got.length, runs.length);
  for (const [i, r] of runs.entries()) {
    const a = got[i].accuracy;
    t.equal(
      got[i].syncChecks,
      got[i].steps,
      `${style} ${n} ${label(r)}: parameters equal on all ranks after every step`,
    );
    t.ok(
      Math.abs(a - one[i].accuracy) <= BOUND + 1e-9 && a >= FLOOR,
      `${style} ${n} ranks ${label(r)}: ${pct(a)}, 1 rank ${pct(one[i].accuracy)}`,
    );
  }
}

for (const n of [2, 3]) {
  t.test(`SPMD, ${n} ranks`, async (t) => {
    const got = await runRanksWith<RunOutcome[]>({ timeoutMs: 600_000 }, n, MODULE, 'spmdRuns', runs);
    compare(t, 'spmd', n, got[0]);
  });
}

t.test('pool style, 2 and 3 workers', async (t) => {
  const pool = await connect({ workers: 3 });
  t.teardown(() => pool.close());
  for (const n of [2, 3]) {
    const got = await pool.spmd<RunOutcome[]>(MODULE, 'poolRuns', { ranks: n }, runs);
    compare(t, 'pool', n, got[0]);
  }
});

// --sync-bn: the ranks form the one-process batch's moments, so 2 ranks follow the one-process run
// step for step (losses equal up to float rounding), on the run that drifted most without it.
t.test('SPMD, 2 ranks, --sync-bn: the one-process run', async (t) => {
  const i = runs.findIndex((r) => r.input.endsWith('radiograph') && r.seed === 2);
  const [got] = (
    await runRanksWith<RunOutcome[]>({ timeoutMs: 600_000 }, 2, MODULE, 'spmdRuns', [
      { ...runs[i], syncBn: true },
    ])
  )[0];
  for (const [e, loss] of got.losses.entries()) {
    const want = one[i].losses[e];
    t.ok(
      Math.abs(loss - want) <= 1e-3 * want,
      `epoch ${e + 1} loss ${loss.toFixed(6)}, 1 rank ${want.toFixed(6)}`,
    );
  }
  t.ok(
    Math.abs(got.accuracy - one[i].accuracy) <= 0.0125 + 1e-9,
    `${pct(got.accuracy)}, 1 rank ${pct(one[i].accuracy)} (at most one test image apart)`,
  );
});
