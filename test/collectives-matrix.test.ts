import t from 'tap';
import { runRanks } from 'tsrun/testing';
import type { MatrixResult } from './fixtures/spmd/collectives-matrix.js';

const MODULE = new URL('./fixtures/spmd/collectives-matrix.ts', import.meta.url);
// 300,000 float64 = 2.3 MiB: several 1 MiB transport chunks and several ring segments.
const BIG = 300_000;

for (const world of [1, 2, 3, 4, 7]) {
  t.test(`every collective on ${world} real rank${world > 1 ? 's' : ''}`, async (t) => {
    const results = await runRanks<MatrixResult>(world, MODULE, 'matrix', world === 7 ? BIG / 3 : BIG);
    t.equal(results.length, world);
    for (const [r, res] of results.entries()) {
      t.ok(res.checks > 300, `rank ${r} ran ${res.checks} checks`);
      t.same(res.failures, [], `rank ${r}: every result equals the plain computation`);
    }
    const sums = new Set(results.map((r) => r.checksum));
    t.equal(sums.size, 1, 'float all-reduce results are bitwise identical on every rank');
  });
}
