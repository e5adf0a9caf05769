/**
 * k-means paper mode: tsrun spmd (2 ranks, via the launcher) and pool (2 workers, once
 * experiments/kmeans/pool.ts exists) against ../shared/peers/kmeans_dask.py FILE 2, in one run.
 * Prints one JSON line per measurement. usage: npx tsx bench/kmeans.ts [FILE] [EDGES]
 * (default: generates 6.3 M edges into /tmp). Run on a quiet machine: times are wall-clock.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeGraph } from '../experiments/datagen/graph.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const edges = Number(process.argv[3] ?? 6_300_000);
const file = process.argv[2] ?? `/tmp/tsrun-bench-${edges}.csv`;
if (!existsSync(file)) writeGraph(file, edges, 7);
const dir = mkdtempSync(join(tmpdir(), 'bench-kmeans-'));

function timed(peer: string, cmd: string, args: string[], out?: string): void {
  const t0 = performance.now();
  try {
    const stdout = execFileSync(cmd, args, {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const sec = (performance.now() - t0) / 1000;
    const res = out
      ? JSON.parse(readFileSync(out, 'utf8'))
      : JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
    console.log(
      JSON.stringify({
        peer,
        exp: 'kmeans-blocks',
        workers: 2,
        sec,
        ch_mean: res.calinski_harabasz ?? res.ch_mean,
      }),
    );
  } catch (err) {
    console.log(JSON.stringify({ peer, exp: 'kmeans-blocks', error: String(err).slice(0, 300) }));
  }
}

const spmdOut = join(dir, 'spmd.json');
timed(
  'tsrun-spmd',
  process.execPath,
  [
    join(root, 'bin/tsrun.js'),
    '--standalone',
    '--nproc-per-node',
    '2',
    join(root, 'experiments/kmeans/spmd.ts'),
    '--input',
    file,
    '--mode',
    'paper',
    '--out',
    spmdOut,
  ],
  spmdOut,
);
if (existsSync(join(root, 'experiments/kmeans/pool.ts'))) {
  const poolOut = join(dir, 'pool.json');
  timed(
    'tsrun-pool',
    'npx',
    [
      'tsx',
      join(root, 'experiments/kmeans/pool.ts'),
      '--input',
      file,
      '--mode',
      'paper',
      '--workers',
      '2',
      '--out',
      poolOut,
    ],
    poolOut,
  );
}
timed('dask+sklearn', '/usr/bin/python3', [
  fileURLToPath(new URL('../../shared/peers/kmeans_dask.py', import.meta.url)),
  file,
  '2',
]);
