import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { clusterBlock } from '../experiments/kmeans/block-kmeans.js';
import { listBlocks, loadBlock } from '../experiments/kmeans/blocks.js';
import { type Gather, globalKmeans } from '../experiments/kmeans/global-kmeans.js';
import { NumpyRandomState } from '../experiments/kmeans/mt19937.js';

const fixtures = new URL('../../shared/fixtures/', import.meta.url);
const blobs = fileURLToPath(new URL('blobs.csv', fixtures));
const graph = fileURLToPath(new URL('graph.csv', fixtures));
const blobsRef = JSON.parse(readFileSync(new URL('blobs.kmeans.json', fixtures), 'utf8'));
const graphRef = JSON.parse(readFileSync(new URL('graph.kmeans.json', fixtures), 'utf8'));
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

t.test('numpy RandomState(42) stream', async (t) => {
  // Values printed by numpy 1.24: RandomState(42).randint(8000), .uniform(), .random_sample(), .randint(1e6)
  const r = new NumpyRandomState(42);
  t.same(
    [r.randint(8000), r.randomSample(), r.randomSample(), r.randint(1000000)],
    [7270, 0.7965429868602328, 0.1834347898661638, 644167],
  );
});

/** Runs globalKmeans as `parts` participants over a split of the blocks, with an in-process gather. */
async function globalSplit(path: string, blockBytes: number, parts: number) {
  const input = await listBlocks(path, blockBytes);
  const xs: Float64Array[][] = Array.from({ length: parts }, () => []);
  const ys: Float64Array[][] = Array.from({ length: parts }, () => []);
  for (let b = 0; b < input.blocks.length; b++) {
    const { x, y } = await loadBlock(input, input.blocks[b]);
    const p = Math.floor((b * parts) / input.blocks.length);
    xs[p].push(x);
    ys[p].push(y);
  }
  let slots: Float64Array[] = [];
  let waiting: ((v: Float64Array[]) => void)[] = [];
  const gather =
    (p: number): Gather =>
    (a) =>
      new Promise((resolve) => {
        slots[p] = a;
        waiting.push(resolve);
        if (waiting.length === parts) {
          const all = slots;
          const w = waiting;
          slots = [];
          waiting = [];
          for (const r of w) r(all);
        }
      });
  return Promise.all(xs.map((x, p) => globalKmeans(x, ys[p], gather(p), { k: 16 })));
}

t.test('paper mode on blobs.csv: CH within 1e-6 of scikit-learn', async (t) => {
  const input = await listBlocks(blobs, 20 << 20);
  t.equal(input.blocks.length, 1);
  const { x, y } = await loadBlock(input, input.blocks[0]);
  const r = clusterBlock(x, y, 16);
  t.equal(r.rows, 8000);
  t.ok(rel(r.score, blobsRef.calinski_harabasz) < 1e-6, `${r.score} vs ${blobsRef.calinski_harabasz}`);
});

t.test('paper mode on graph.csv: same init stream as sklearn, score >= 0.97 x its score', async (t) => {
  const input = await listBlocks(graph, 20 << 20);
  const { x, y } = await loadBlock(input, input.blocks[0]);
  const r = clusterBlock(x, y, 16);
  t.ok(r.score >= 0.97 * graphRef.calinski_harabasz, `${r.score} vs ${graphRef.calinski_harabasz}`);
  t.ok(rel(r.score, graphRef.calinski_harabasz) < 1e-6, 'in fact the same clustering as sklearn');
});

t.test('global mode: blobs score as sklearn, bit-identical for any split of the blocks', async (t) => {
  for (const [path, blockBytes] of [
    [blobs, 20 << 20],
    [blobs, 9000],
    [graph, 20000],
  ] as const) {
    const scores: number[] = [];
    for (const parts of [1, 2, 3]) {
      const rs = await globalSplit(path, blockBytes, parts);
      t.ok(
        rs.every((r) => r.calinski_harabasz === rs[0].calinski_harabasz),
        'all participants agree',
      );
      scores.push(rs[0].calinski_harabasz);
      if (path === blobs) t.ok(rel(rs[0].calinski_harabasz, blobsRef.calinski_harabasz) < 1e-6);
      if (path === blobs) t.ok(rel(rs[0].inertia, blobsRef.inertia) < 1e-6);
    }
    t.same(new Set(scores).size, 1, `${path} blocks of ${blockBytes} B: identical on 1, 2, 3 participants`);
  }
});

const root = fileURLToPath(new URL('..', import.meta.url));
const haveGroup = existsSync(join(root, 'src/index.ts')) && existsSync(join(root, 'bin/tsrun.js'));
const run = promisify(execFile);

t.test(
  'spmd.ts under the launcher on 1-3 ranks',
  { skip: haveGroup ? false : 'tsrun init() not built yet' },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kmeans-spmd-'));
    for (const mode of ['paper', 'global']) {
      for (const [file, ref] of [
        [blobs, blobsRef.calinski_harabasz],
        [graph, graphRef.calinski_harabasz],
      ] as const) {
        const scores: number[] = [];
        for (const n of [1, 2, 3]) {
          const out = join(dir, `${mode}-${n}.json`);
          // Small blocks on graph.csv so that 2 and 3 ranks really split the work.
          const blockMb = file === graph ? '0.02' : '20';
          const { stdout } = await run(
            process.execPath,
            [
              join(root, 'bin/tsrun.js'),
              '--standalone',
              '--nproc-per-node',
              String(n),
              join(root, 'experiments/kmeans/spmd.ts'),
              '--input',
              file,
              '--k',
              '16',
              '--mode',
              mode,
              '--block-mb',
              blockMb,
              '--out',
              out,
            ],
            { cwd: root, timeout: 120_000 },
          );
          t.match(stdout, /Calinski-Harabasz Score: /);
          const res = JSON.parse(readFileSync(out, 'utf8'));
          t.equal(res.ranks, n);
          scores.push(res.calinski_harabasz);
          if (file === blobs) t.ok(rel(res.calinski_harabasz, ref) < 1e-6, `${mode} ${n} ranks`);
          else if (mode === 'paper') t.ok(res.calinski_harabasz > 0, 'positive mean score over blocks');
        }
        t.same(new Set(scores).size, 1, `${mode} ${file}: identical on 1, 2, 3 ranks`);
      }
    }
  },
);
