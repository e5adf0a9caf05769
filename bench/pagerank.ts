/**
 * Global PageRank (--tol 1e-8) in one run: tsrun spmd on 1 and 2 ranks (via the launcher), pool with
 * 2 workers, and bench/peers/pagerank_scipy.py FILE (scipy, one process). Prints one JSON line per
 * measurement: wall seconds of the whole command (start-up and CSV reading included), the experiment's
 * own seconds, iterations, and the peak RSS of the largest process (one rank) when /usr/bin/time is
 * there. usage: npx tsx bench/pagerank.ts [FILE] [EDGES]   (default: generates 6.3 M edges into /tmp)
 * Times are wall-clock: run on a quiet machine, and compare within one run. The run's times are also
 * drawn as a bar chart, results/bench/pagerank.svg and .png.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkPythonPeer, DEFAULT_PEER_PYTHON, PEERS_DIR } from '../experiments/common/python-peer.js';
import { writeGraph } from '../experiments/datagen/graph.js';
import { renderChart } from '../experiments/report/render-chart.js';
import { tsxCommand } from '../src/process/local-spawner.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const edges = Number(process.argv[3] ?? 6_300_000);
const file = process.argv[2] ?? `/tmp/tsrun-bench-${edges}.csv`;
if (!existsSync(file)) writeGraph(file, edges, 7);
const dir = mkdtempSync(join(tmpdir(), 'bench-pagerank-'));
const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const python = DEFAULT_PEER_PYTHON;

/** What the chart draws: one bar per measurement of this run. */
const bars: { label: string; sec: number; iterations?: number }[] = [];
let graphEdges: number | undefined;

function measure(peer: string, world: number, cmd: string, args: string[], out?: string): void {
  const [bin, argv] = timeBin ? [timeBin, ['-f', 'MAXRSS_KB %M', cmd, ...args]] : [cmd, args];
  const t0 = performance.now();
  const r = spawnSync(bin, argv, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) {
    const why = (r.stderr || String(r.error ?? r.signal)).slice(-400);
    console.log(JSON.stringify({ peer, exp: 'pagerank-global', world, error: why }));
    return;
  }
  report(peer, world, wall, r.stdout, r.stderr, out);
}

function report(
  peer: string,
  world: number,
  wall: number,
  stdout: string,
  stderr: string,
  out?: string,
): void {
  const res = out
    ? JSON.parse(readFileSync(out, 'utf8'))
    : JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
  const rss = /MAXRSS_KB (\d+)/.exec(stderr);
  const iterations = res.iterations ?? res.iters;
  graphEdges ??= res.edges;
  const who = peer === 'tsrun-pool' ? 'tsrun pool' : 'tsrun SPMD';
  const units = peer === 'tsrun-pool' ? 'workers' : world === 1 ? 'rank' : 'ranks';
  bars.push({
    label: peer === 'scipy' ? 'scipy, 1 process' : `${who}, ${world} ${units}`,
    sec: wall,
    iterations,
  });
  console.log(
    JSON.stringify({
      peer,
      exp: 'pagerank-global',
      world,
      edges: res.edges,
      nodes: res.nodes,
      iterations: res.iterations ?? res.iters,
      sec: wall,
      inner_sec: res.seconds ?? res.sec,
      read_sec: res.read_sec,
      peak_rss_mb: rss ? Math.round(Number(rss[1]) / 1024) : undefined,
      top1: (res.top ?? res.top10)?.[0],
    }),
  );
}

const flags = ['--input', file, '--mode', 'global', '--tol', '1e-8'];
for (const n of [1, 2]) {
  const out = join(dir, `spmd-${n}.json`);
  measure(
    'tsrun-spmd',
    n,
    process.execPath,
    [
      join(root, 'bin/tsrun.js'),
      '--standalone',
      '--nproc-per-node',
      String(n),
      join(root, 'experiments/pagerank/spmd.ts'),
      ...flags,
      '--out',
      out,
    ],
    out,
  );
}
if (existsSync(join(root, 'src/pool/index.ts'))) {
  const out = join(dir, 'pool-2.json');
  measure(
    'tsrun-pool',
    2,
    process.execPath,
    [...tsxCommand(join(root, 'experiments/pagerank/pool.ts')), ...flags, '--workers', '2', '--out', out],
    out,
  );
}
const scipyCheck = checkPythonPeer(python, ['numpy', 'pandas', 'scipy']);
if (scipyCheck.ok) measure('scipy', 1, python, [join(PEERS_DIR, 'pagerank_scipy.py'), file]);
else console.error(`bench/pagerank: peer scipy skipped: ${scipyCheck.reason}`);

if (bars.length > 0) {
  const dir = join(root, 'results', 'bench');
  mkdirSync(dir, { recursive: true });
  const chart = await renderChart(
    {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: `PageRank global, ${(graphEdges ?? edges).toLocaleString('en-US')} edges, tol 1e-8: whole command`,
      background: 'white',
      width: 420,
      data: { values: bars.map((b) => ({ ...b, text: `${b.sec.toFixed(2)} s, ${b.iterations} it.` })) },
      encoding: { y: { field: 'label', type: 'nominal', title: null, sort: null } },
      layer: [
        {
          mark: 'bar',
          encoding: { x: { field: 'sec', type: 'quantitative', title: 'wall seconds (lower is better)' } },
        },
        {
          mark: { type: 'text', align: 'left', dx: 4 },
          encoding: { x: { field: 'sec', type: 'quantitative' }, text: { field: 'text' } },
        },
      ],
    },
    dir,
    'pagerank',
  );
  process.stderr.write(`bench: chart ${chart.pngFile} (and .svg)\n`);
}
