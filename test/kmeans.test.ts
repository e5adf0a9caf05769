import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { type Gather, globalKmeans } from '../experiments/kmeans/drivers/global-spmd.js';
import { clusterBlock } from '../experiments/kmeans/kernels/block-kmeans.js';
import { NumpyRandomState } from '../experiments/kmeans/kernels/mt19937.js';
import { listBlocks, loadBlock } from '../experiments/kmeans/setup/blocks.js';

const fixtures = new URL('./fixtures/reference/', import.meta.url);
const blobs = fileURLToPath(new URL('blobs.csv', fixtures));
const graph = fileURLToPath(new URL('graph.csv', fixtures));
const blobsRef = JSON.parse(readFileSync(new URL('blobs.kmeans.json', fixtures), 'utf8'));
const graphRef = JSON.parse(readFileSync(new URL('graph.kmeans.json', fixtures), 'utf8'));
/** Data rows of graph.csv (lines after the header). */
const graphRows = readFileSync(graph, 'utf8').trim().split('\n').length - 1;
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
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'kmeans-spmd-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** spmd.ts under the launcher on n ranks; resolves to its JSON result, stdout and stderr. */
async function spmd(n: number, file: string, mode: string, blockMb: string) {
  const out = join(dir, `${mode}-${n}-${blockMb}-${file === blobs ? 'blobs' : 'graph'}.json`);
  const { stdout, stderr } = await run(
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
  return { res: JSON.parse(readFileSync(out, 'utf8')), stdout, stderr };
}

t.test('spmd.ts under the launcher on 1-3 ranks: the same score on every rank count', async (t) => {
  // Blocks of 0.02 MiB: graph.csv has 9 of them, so 2 and 3 ranks really split the work.
  const input = await listBlocks(graph, Math.floor(0.02 * 1048576));
  t.equal(input.blocks.length, 9);
  const [ref] = await globalSplit(graph, Math.floor(0.02 * 1048576), 1);
  for (const mode of ['paper', 'global']) {
    const runs = await Promise.all([1, 2, 3].map((n) => spmd(n, graph, mode, '0.02')));
    runs.forEach(({ res, stdout, stderr }, i) => {
      t.equal(res.ranks, i + 1);
      t.equal(res.style, 'spmd');
      t.equal(res.rows, graphRows);
      t.match(stdout, /Calinski-Harabasz Score: /);
      // A progress line per block with rate (and ETA while blocks remain).
      t.match(stderr, /\[kmeans rank 0\] 1\/\d+ blocks [\d.]+ blocks\/s/);
    });
    const scores = runs.map((r) => r.res.calinski_harabasz);
    t.same(new Set(scores).size, 1, `${mode}: identical on 1, 2, 3 ranks (${scores})`);
    if (mode === 'global') {
      t.equal(scores[0], ref.calinski_harabasz, 'bit-identical to the in-process run');
      t.same(runs[2].res.centroids, ref.centroids);
    } else t.ok(scores[0] > 0);
  }
});

t.test('spmd.ts on blobs.csv: both modes within 1e-6 of scikit-learn on 2 ranks', async (t) => {
  const [paper, global] = await Promise.all([
    spmd(2, blobs, 'paper', '20'),
    spmd(2, blobs, 'global', '0.01'),
  ]);
  for (const { res } of [paper, global]) {
    t.ok(
      rel(res.calinski_harabasz, blobsRef.calinski_harabasz) < 1e-6,
      `${res.mode} ${res.calinski_harabasz}`,
    );
  }
  t.ok(rel(global.res.inertia, blobsRef.inertia) < 1e-6);
  t.ok(global.res.blocks > 1, 'several blocks');
});
