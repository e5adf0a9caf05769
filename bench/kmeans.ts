/**
 * k-means paper mode, one run each of: tsrun spmd (2 ranks under the launcher), tsrun pool (embedded
 * pool, 2 workers) and bench/peers/kmeans_dask.py FILE 2 (Dask + scikit-learn, one task per block),
 * on the same file. Prints one JSON line per measurement, then one line of ratios (tsrun / dask, < 1
 * means tsrun is faster).
 *
 *   npx tsx bench/kmeans.ts [FILE] [EDGES]     # default: 6.3 M generated edges in /tmp (kept for reuse)
 *
 * `sec` is the wall time of the whole command (process and cluster start included, as the peer's own
 * figure includes its LocalCluster start); `compute_sec` is the script's own figure (from the input
 * listing to the result). Ratios use `sec` only: the peer's own figure includes its cluster start.
 * Times are wall-clock: run on a quiet machine.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { checkPythonPeer, DEFAULT_PEER_PYTHON, PEERS_DIR } from '../experiments/common/python-peer.js';
import { writeGraph } from '../experiments/datagen/graph.js';
import { tsxCommand } from '../src/process/local-spawner.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const edges = Number(process.argv[3] ?? 6_300_000);
if (!Number.isInteger(edges) || edges < 1)
  throw new Error(`EDGES must be a positive integer, got ${process.argv[3]}`);
const file = process.argv[2] ?? `/tmp/tsrun-bench-${edges}.csv`;
if (!existsSync(file)) writeGraph(file, edges, 7);
const dir = mkdtempSync(join(tmpdir(), 'bench-kmeans-'));
const WORKERS = 2;

interface Measurement {
  peer: string;
  exp: 'kmeans-blocks';
  workers: number;
  sec?: number;
  compute_sec?: number;
  blocks?: number;
  ch_mean?: number;
  error?: string;
}

/** Runs one side; its result comes from `out` (tsrun) or the last stdout line (the peer). */
async function timed(peer: string, cmd: string, args: string[], out?: string): Promise<Measurement> {
  const t0 = performance.now();
  let m: Measurement;
  try {
    const { stdout } = await run(cmd, args, { cwd: root, maxBuffer: 1 << 26 });
    const sec = (performance.now() - t0) / 1000;
    const res = out
      ? JSON.parse(readFileSync(out, 'utf8'))
      : JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
    m = {
      peer,
      exp: 'kmeans-blocks',
      workers: WORKERS,
      sec,
      compute_sec: out ? res.seconds : res.sec,
      blocks: res.blocks,
      ch_mean: res.calinski_harabasz ?? res.ch_mean,
    };
  } catch (err) {
    const e = err as { message?: string; stderr?: string };
    m = { peer, exp: 'kmeans-blocks', workers: WORKERS, error: `${e.message ?? err}`.slice(0, 400) };
  }
  console.log(JSON.stringify(m));
  return m;
}

const common = ['--input', file, '--k', '16', '--mode', 'paper'];
const spmdOut = join(dir, 'spmd.json');
const poolOut = join(dir, 'pool.json');
try {
  const spmd = await timed(
    'tsrun-spmd',
    process.execPath,
    [
      join(root, 'bin/tsrun.js'),
      '--standalone',
      '--nproc-per-node',
      String(WORKERS),
      join(root, 'experiments/kmeans/spmd.ts'),
      ...common,
      '--out',
      spmdOut,
    ],
    spmdOut,
  );
  const pool = await timed(
    'tsrun-pool',
    process.execPath,
    [
      ...tsxCommand(join(root, 'experiments/kmeans/pool.ts')),
      ...common,
      '--workers',
      String(WORKERS),
      '--out',
      poolOut,
    ],
    poolOut,
  );
  const peerCheck = checkPythonPeer(DEFAULT_PEER_PYTHON, ['numpy', 'pandas', 'sklearn', 'dask.distributed']);
  if (!peerCheck.ok) console.error(`bench/kmeans: peer dask+sklearn skipped: ${peerCheck.reason}`);
  const dask = peerCheck.ok
    ? await timed('dask+sklearn', DEFAULT_PEER_PYTHON, [
        join(PEERS_DIR, 'kmeans_dask.py'),
        file,
        String(WORKERS),
      ])
    : undefined;
  const ratio = (a?: number, b?: number) => (a && b ? Number((a / b).toFixed(3)) : null);
  console.log(
    JSON.stringify({
      exp: 'kmeans-blocks',
      metric: 'ratio_vs_dask',
      workers: WORKERS,
      file,
      spmd_sec: ratio(spmd.sec, dask?.sec),
      pool_sec: ratio(pool.sec, dask?.sec),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
