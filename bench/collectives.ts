/**
 * npm run bench:collectives -- [--world 2] [--sizes 4,1024,...] [--no-peer] [--no-curve] [--zmq]
 *                               [--hosts [--rate 1gbit]]
 *
 * Runs, in one run on this host: the tsrun collectives benchmark on `--world` local ranks (same-host
 * shared memory for large payloads, PLAIN+token; then CURVE unless --no-curve; with --zmq also with
 * TSRUN_SHM=0, everything over ZeroMQ), the raw zeromq.js bandwidth probe, the torch.distributed gloo peer
 * (bench/peers/torch_gloo.py) and the Open MPI peer (mpirun + bench/peers/mpi4py_bench.py). Each peer is
 * detected on its own; a missing one prints `skipped: ...` with the package that provides it.
 * Prints every JSON line, then one summary line per (op, bytes) with the ratios against the peers and the
 * bus bandwidth (NCCL-tests' definition), and draws results/bench/collectives.svg and .png (time vs size,
 * log-log, one line per system).
 *
 * `--hosts` then runs the two multi-host configurations in the same run (root: network-namespace hosts over
 * SSH and TCP): bench/across-hosts.ts (2 hosts x 1 rank against raw zeromq.js TCP) and bench/hierarchical.ts
 * (2 hosts x 2 ranks, hierarchical against the flat ring), with `--rate` shaping their links; each prints its
 * own summary lines and chart.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { TopLevelSpec } from 'vega-lite';
import { renderChart } from '../experiments/report/render-chart.js';
import {
  freePort,
  makeRankEnv,
  newJobSecret,
  spawnLocalRanks,
  tsxCommand,
} from '../src/process/local-spawner.js';
import { messageSizeAxis } from './size-axis.js';

interface Line {
  peer: string;
  op?: string;
  world?: number;
  bytes?: number;
  sec?: number;
  mode?: string;
  metric?: string;
  transport?: string;
  value?: number;
}

const args = process.argv.slice(2);
const flag = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : def;
};
const world = Number(flag('world', '2'));
const sizes = flag('sizes', '4,1024,65536,1048576,16777216,67108864');
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const root = here('../');
const PYTHON = '/usr/bin/python3';

function collect(out: NodeJS.ReadableStream | null, into: Line[]): void {
  let buf = '';
  out?.on('data', (d: Buffer) => {
    buf += d.toString();
    let i = buf.indexOf('\n');
    while (i >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      i = buf.indexOf('\n');
      if (!line.startsWith('{')) continue;
      try {
        const obj = JSON.parse(line) as Line;
        console.log(JSON.stringify(obj));
        into.push(obj);
      } catch {}
    }
  });
}

async function runTsrun(encrypt: boolean, shm: boolean): Promise<Line[]> {
  const port = await freePort();
  const secret = newJobSecret();
  const ranks = Array.from({ length: world }, (_, r) => ({
    rank: r,
    localRank: r,
    env: {
      ...makeRankEnv({
        rank: r,
        localRank: r,
        worldSize: world,
        localWorldSize: world,
        groupRank: 0,
        masterAddr: '127.0.0.1',
        masterPort: port,
        jobSecret: secret,
      }),
      SIZES: sizes,
      TSRUN_ENCRYPT: encrypt ? '1' : '0',
      TSRUN_SHM: shm ? '1' : '0',
    },
  }));
  const job = spawnLocalRanks({ command: tsxCommand(here('./collectives-rank.ts')), ranks, stdio: 'pipe' });
  const lines: Line[] = [];
  collect(job.procs[0].stdout, lines);
  for (const p of job.procs) p.stderr?.pipe(process.stderr);
  const exits = await job.exited;
  const bad = exits.find((e) => e.code !== 0);
  if (bad)
    throw new Error(`rank ${bad.rank} failed (${bad.code ?? bad.signal}): ${bad.stderrTail.join('\n')}`);
  return lines;
}

function runCommand(cmd: string, argv: string[], env: NodeJS.ProcessEnv): Promise<Line[]> {
  return new Promise((resolve) => {
    const lines: Line[] = [];
    const p = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    collect(p.stdout, lines);
    p.on('error', () => resolve(lines));
    p.on('exit', (code) => {
      if (code !== 0) console.error(`bench: ${cmd} ${argv.join(' ')} exited with ${code}`);
      resolve(lines);
    });
  });
}

/** Why a Python peer cannot run here, or undefined when it can. */
function pythonMissing(mod: string, pkg: string): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} not found (apt-get install python3 ${pkg})`;
  const r = spawnSync(PYTHON, ['-c', `import ${mod}`], { stdio: 'ignore' });
  return r.status === 0 ? undefined : `${PYTHON} cannot import ${mod} (apt-get install ${pkg})`;
}

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

async function runGloo(): Promise<Line[]> {
  const why = pythonMissing('torch', 'python3-torch');
  if (why) {
    console.log(`skipped: gloo peer: ${why}`);
    return [];
  }
  return runCommand(PYTHON, [here('./peers/launch_torch.py'), String(world), here('./peers/torch_gloo.py')], {
    ...process.env,
    SIZES: sizes,
    MASTER_PORT: String(await freePort()),
  });
}

async function runOpenMpi(): Promise<Line[]> {
  const mpirun = which('mpirun');
  const why = mpirun
    ? pythonMissing('mpi4py', 'python3-mpi4py')
    : 'mpirun not found (apt-get install openmpi-bin python3-mpi4py)';
  if (why || !mpirun) {
    console.log(`skipped: Open MPI peer: ${why}`);
    return [];
  }
  const rootFlags = process.getuid?.() === 0 ? ['--allow-run-as-root'] : [];
  return runCommand(
    mpirun,
    [...rootFlags, '--oversubscribe', '-np', String(world), PYTHON, here('./peers/mpi4py_bench.py')],
    { ...process.env, SIZES: sizes, OMPI_MCA_rmaps_base_oversubscribe: '1' },
  );
}

/** NCCL-tests' bus bandwidth: bytes per second on the busiest link, comparable across ranks counts. */
function busBandwidth(op: string, bytes: number, sec: number): number {
  if (op === 'all_reduce') return ((bytes / sec) * 2 * (world - 1)) / world;
  if (op === 'all_gather') return ((bytes * world) / sec) * ((world - 1) / world);
  return bytes / sec;
}

const load = os.loadavg().map((x) => Number(x.toFixed(2)));
console.log(JSON.stringify({ load_average: load, cores: os.cpus().length }));
const tsrun = await runTsrun(false, true);
const curve = args.includes('--no-curve') ? [] : await runTsrun(true, true);
const zmqOnly = args.includes('--zmq') ? await runTsrun(false, false) : [];
const raw = await runCommand(process.execPath, [...tsxCommand(here('./zmq-bandwidth.ts'))], process.env);
const peers = args.includes('--no-peer') ? [] : [...(await runGloo()), ...(await runOpenMpi())];

const find = (ls: Line[], op?: string, bytes?: number) =>
  ls.find((x) => x.op === op && x.bytes === bytes)?.sec;
const round = (x: number, d = 3) => Number(x.toFixed(d));
for (const t of tsrun) {
  if (!t.op || !t.sec || t.bytes === undefined) continue;
  const out: Record<string, unknown> = { summary: true, op: t.op, world, bytes: t.bytes, tsrun_sec: t.sec };
  const gloo = find(
    peers.filter((p) => p.peer === 'torch-gloo'),
    t.op,
    t.bytes,
  );
  const mpi = find(
    peers.filter((p) => p.peer === 'openmpi'),
    t.op,
    t.bytes,
  );
  if (gloo) {
    out.gloo_sec = gloo;
    out.ratio_vs_gloo = round(t.sec / gloo);
  }
  if (mpi) {
    out.openmpi_sec = mpi;
    out.ratio_vs_openmpi = round(t.sec / mpi);
  }
  const c = find(curve, t.op, t.bytes);
  if (c) out.curve_sec = c;
  const z = find(zmqOnly, t.op, t.bytes);
  if (z) out.zeromq_only_sec = z;
  out.bus_gbps = round(busBandwidth(t.op, t.bytes, t.sec) / 1e9);
  console.log(JSON.stringify(out));
}
for (const r of raw) {
  if (r.metric)
    console.log(
      JSON.stringify({ summary: true, raw_zeromq: r.transport, gbps: round((r.value ?? 0) / 1e9) }),
    );
}
console.log(JSON.stringify({ load_average_after: os.loadavg().map((x) => Number(x.toFixed(2))) }));

const label: Record<string, string> = {
  tsrun: 'tsrun (shared memory)',
  'tsrun-curve': 'tsrun --encrypt',
  'tsrun-zmq': 'tsrun (ZeroMQ only)',
  'torch-gloo': 'torch.distributed gloo',
  openmpi: 'Open MPI (mpi4py)',
};
const rows = [
  ...tsrun.map((l) => ({ ...l, peer: 'tsrun' })),
  ...curve.map((l) => ({ ...l, peer: 'tsrun-curve' })),
  ...zmqOnly.map((l) => ({ ...l, peer: 'tsrun-zmq' })),
  ...peers,
]
  .filter((l) => l.op && l.sec && l.bytes)
  .map((l) => ({ op: l.op, bytes: l.bytes, ms: (l.sec as number) * 1000, system: label[l.peer] ?? l.peer }));
const spec: TopLevelSpec = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: `Collectives, ${world} ranks on one host (median per call; load average ${load[0]})`,
  background: 'white',
  data: { values: rows },
  columns: 3,
  facet: { field: 'op', type: 'nominal', title: null, sort: ['all_reduce', 'broadcast', 'all_gather'] },
  spec: {
    width: 260,
    height: 220,
    mark: { type: 'line', point: true },
    encoding: {
      x: messageSizeAxis(sizes),
      y: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'ms per call' },
      color: { field: 'system', type: 'nominal', title: 'system', legend: { labelLimit: 300 } },
    },
  },
};
mkdirSync(`${root}results/bench`, { recursive: true });
const chart = await renderChart(spec, `${root}results/bench`, 'collectives');
console.log(JSON.stringify({ chart: chart.svgFile, png: chart.pngFile }));

if (args.includes('--hosts')) {
  const rate = flag('rate', '');
  for (const script of ['./across-hosts.ts', './hierarchical.ts']) {
    const argv = tsxCommand(here(script), rate ? ['--rate', rate] : []);
    const code = await new Promise<number | null>((resolve) => {
      const p = spawn(process.execPath, argv, { cwd: root, stdio: 'inherit' });
      p.on('error', () => resolve(null));
      p.on('exit', (c) => resolve(c));
    });
    if (code !== 0) console.error(`bench: ${script} exited with ${code}`);
  }
}
