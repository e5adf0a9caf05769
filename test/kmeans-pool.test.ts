/**
 * experiments/kmeans/pool.ts with the embedded pool (real worker processes): the fixture checks of the
 * issue in the pool style, and bit-identity with the SPMD style's kernels run in this process.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { globalKmeans } from '../experiments/kmeans/drivers/global-spmd.js';
import { clusterBlock } from '../experiments/kmeans/kernels/block-kmeans.js';
import { listBlocks, loadBlock } from '../experiments/kmeans/setup/blocks.js';

const fixtures = new URL('./fixtures/reference/', import.meta.url);
const blobs = fileURLToPath(new URL('blobs.csv', fixtures));
const graph = fileURLToPath(new URL('graph.csv', fixtures));
const blobsRef = JSON.parse(readFileSync(new URL('blobs.kmeans.json', fixtures), 'utf8'));
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'kmeans-pool-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const SMALL = Math.floor(0.02 * 1048576);

/** pool.ts on an embedded pool of `workers`; resolves to its JSON result, stdout and stderr. */
async function pool(workers: number, file: string, mode: string, blockMb: string) {
  const out = join(dir, `${mode}-${workers}-${blockMb}-${file === blobs ? 'blobs' : 'graph'}.json`);
  const { stdout, stderr } = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      join(root, 'experiments/kmeans/pool.ts'),
      '--input',
      file,
      '--k',
      '16',
      '--mode',
      mode,
      '--block-mb',
      blockMb,
      '--workers',
      String(workers),
      '--out',
      out,
    ],
    // The embedded pool, whatever cluster the machine running the tests may have.
    { cwd: root, timeout: 120_000, env: { ...process.env, TSRUN_POOL_ADDRESS: '' } },
  );
  return { res: JSON.parse(readFileSync(out, 'utf8')), stdout, stderr };
}

/** Paper mode computed block by block in this process (what the SPMD ranks compute), and global. */
async function inProcess(path: string, blockBytes: number) {
  const input = await listBlocks(path, blockBytes);
  let sum = 0;
  const xs: Float64Array[] = [];
  const ys: Float64Array[] = [];
  for (const b of input.blocks) {
    const { x, y } = await loadBlock(input, b);
    xs.push(Float64Array.from(x));
    ys.push(Float64Array.from(y));
    sum += clusterBlock(x, y, 16).score;
  }
  const global = await globalKmeans(xs, ys, async (a) => [a], { k: 16 });
  return { paper: sum / input.blocks.length, global, blocks: input.blocks.length };
}

t.test('blobs.csv in the pool style: both modes within 1e-6 of scikit-learn', async (t) => {
  const [paper, global] = await Promise.all([
    pool(2, blobs, 'paper', '20'),
    pool(2, blobs, 'global', '0.01'),
  ]);
  for (const { res, stdout } of [paper, global]) {
    t.equal(res.style, 'pool');
    t.equal(res.ranks, 2);
    t.equal(res.rows, 8000);
    t.match(stdout, /Time taken \(tsrun-pool\)/);
    t.ok(
      rel(res.calinski_harabasz, blobsRef.calinski_harabasz) < 1e-6,
      `${res.mode} ${res.calinski_harabasz}`,
    );
  }
  t.ok(global.res.blocks > 1, 'global mode over several blocks');
  t.ok(rel(global.res.inertia, blobsRef.inertia) < 1e-6, `inertia ${global.res.inertia}`);
  t.match(global.stderr, /\[kmeans pool\] iteration 1 shift/);
});

t.test('graph.csv paper mode: identical on 1-3 workers and to the SPMD kernels', async (t) => {
  const ref = await inProcess(graph, SMALL);
  t.equal(ref.blocks, 9);
  const runs = await Promise.all([1, 2, 3].map((w) => pool(w, graph, 'paper', '0.02')));
  runs.forEach(({ res, stderr }, i) => {
    t.equal(res.ranks, i + 1);
    t.equal(res.blocks, 9);
    t.equal(res.calinski_harabasz, ref.paper, `${i + 1} workers: ${res.calinski_harabasz}`);
    // A progress line per block, with rate and ETA.
    t.match(stderr, /\[kmeans pool\] 1\/9 blocks [\d.]+ blocks\/s ETA [\d.]+s block 0 /);
    t.match(stderr, /\[kmeans pool\] 9\/9 blocks/);
  });
});

t.test('graph.csv global mode: bit-identical to the SPMD style', async (t) => {
  const ref = await inProcess(graph, SMALL);
  const { res } = await pool(2, graph, 'global', '0.02');
  t.equal(res.calinski_harabasz, ref.global.calinski_harabasz);
  t.equal(res.inertia, ref.global.inertia);
  t.equal(res.iterations, ref.global.iterations);
  t.same(res.centroids, ref.global.centroids);
});

t.test('bad input: exit code 1 and a message naming the file and the problem', async (t) => {
  const three = join(dir, 'three.csv');
  writeFileSync(three, 'a,b,c\n1,2,3\n');
  for (const [file, why] of [
    [join(dir, 'missing.csv'), /ENOENT.*missing\.csv/],
    [three, /three\.csv: k-means needs a 2-column CSV .* found 3 columns/],
  ] as const) {
    const err = await pool(1, file, 'paper', '20').then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    t.equal(err?.code, 1, 'exit code 1');
    t.match(err?.stderr, why);
  }
});
