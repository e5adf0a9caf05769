import t from 'tap';
import { runRanksWith } from 'tsrun/testing';
import type { MatrixResult } from './fixtures/spmd/collectives-matrix.js';

const MODULE = new URL('./fixtures/spmd/collectives-matrix.ts', import.meta.url);

// World 2 uses the default 1 MiB transport chunks with 300,000 float64 (2.3 MiB): two ring segments per
// block. Larger worlds use 64 KiB chunks with 40,000 elements. On one host payloads over 256 KiB travel
// through shared memory; the TSRUN_SHM=0 case sends them over ZeroMQ as several chunks each, which arrive
// before, while or after the receiver posts its buffer (peer-mesh holds early chunks until it does).
const CASES: Array<{ world: number; big: number; env?: Record<string, string> }> = [
  { world: 1, big: 1000 },
  { world: 2, big: 300_000 },
  { world: 3, big: 40_000, env: { TSRUN_CHUNK_BYTES: '65536' } },
  { world: 3, big: 40_000, env: { TSRUN_CHUNK_BYTES: '65536', TSRUN_SHM: '0' } },
  { world: 4, big: 40_000, env: { TSRUN_CHUNK_BYTES: '65536' } },
  { world: 7, big: 40_000, env: { TSRUN_CHUNK_BYTES: '65536' } },
];

for (const { world, big, env } of CASES) {
  const over = env?.TSRUN_SHM === '0' ? ', everything over ZeroMQ' : '';
  t.test(`every collective on ${world} real rank${world > 1 ? 's' : ''}${over}`, async (t) => {
    const results = await runRanksWith<MatrixResult>(
      { env, timeoutMs: 240_000 },
      world,
      MODULE,
      'matrix',
      big,
    );
    t.equal(results.length, world);
    for (const [r, res] of results.entries()) {
      t.ok(res.checks > 300, `rank ${r} ran ${res.checks} checks`);
      t.same(res.failures, [], `rank ${r}: every result equals the plain computation`);
    }
    const sums = new Set(results.map((r) => r.checksum));
    t.equal(sums.size, 1, 'float all-reduce results are bitwise identical on every rank');
  });
}
