/**
 * npm run bench:across-hosts -- [--sizes 1048576,16777216,67108864] [--rounds 3] [--rate 1gbit]
 *   [--env NAME=VALUE ...]  (passed to every rank, e.g. --env TSRUN_CHUNK_BYTES=4194304)
 *
 * Collectives between two hosts over TCP, against the raw wire: two network-namespace hosts (veth pair,
 * own sshd each, as in the multi-host tests) with one rank each, launched over SSH, time all_reduce,
 * broadcast and all_gather; in the same run raw zeromq.js sends 64 MiB one way from the first namespace to
 * the second (bench/zmq-bandwidth.ts). With 2 ranks every one of the three moves n bytes each way, so its
 * bus bandwidth (NCCL-tests' definition) is n / time, compared with the raw one-way rate: the goal is
 * >= 60 %. `--rate` shapes each host's link (tc token bucket). Prints JSON lines, a summary per op and
 * size, and draws results/bench/across-hosts.svg/.png. Needs root (namespaces); prints `skipped:` without.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { TopLevelSpec } from 'vega-lite';
import { renderChart } from '../experiments/report/render-chart.js';
import { tsxCommand } from '../src/process/local-spawner.js';
import { createNetnsCluster, netnsUnavailable, shapeLinks } from '../test/helpers/netns.js';
import { messageSizeAxis } from './size-axis.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const root = here('../');
const args = process.argv.slice(2);
const flag = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : def;
};
const sizes = flag('sizes', '1048576,16777216,67108864');
const rounds = Number(flag('rounds', '3'));
const rate = flag('rate', '');
const OPS = ['all_reduce', 'broadcast', 'all_gather'];
const extraEnv = args.flatMap((a, i) => (args[i - 1] === '--env' ? ['-x', a] : []));

const why = netnsUnavailable();
if (why) {
  console.log(JSON.stringify({ skipped: why }));
  process.exit(0);
}

interface Line {
  op: string;
  bytes: number;
  sec: number;
}

/** Output lines of a command (rejects with its stderr on a non-zero exit). */
function run(cmd: string, argv: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.once('close', (code) => {
      if (code === 0) resolve(out.split('\n').filter((l) => l.startsWith('{')));
      else reject(new Error(`${cmd} ${argv.slice(0, 4).join(' ')} exited with ${code}: ${err.slice(-2000)}`));
    });
  });
}

/** Raw zeromq.js one-way TCP rate from namespace 0 to namespace 1, bytes/s. */
async function rawRate(namespaces: string[], to: string): Promise<number> {
  const ep = `tcp://${to}:${25000 + (process.pid % 10000)}`;
  const [cmd, ...rest] = [process.execPath, ...tsxCommand(here('./zmq-bandwidth.ts'))];
  const sink = spawn('ip', ['netns', 'exec', namespaces[1], cmd, ...rest, 'sink', ep], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<never>((_, reject) =>
    sink.once('exit', (code) => reject(new Error(`the raw zeromq.js sink exited with ${code}`))),
  );
  exited.catch(() => {});
  try {
    await Promise.race([new Promise((r) => sink.once('message', r)), exited, deadline(30_000, 'start')]);
    const lines = await Promise.race([
      run('ip', ['netns', 'exec', namespaces[0], cmd, ...rest, 'to', ep]),
      deadline(120_000, 'measure'),
    ]);
    return (JSON.parse(lines[0]) as { value: number }).value;
  } finally {
    sink.kill('SIGKILL');
  }
}

function deadline(ms: number, what: string): Promise<never> {
  return new Promise((_, reject) => {
    setTimeout(
      () => reject(new Error(`the raw zeromq.js probe did not ${what} within ${ms} ms`)),
      ms,
    ).unref();
  });
}

const cluster = await createNetnsCluster(2);
if (rate) shapeLinks(cluster, rate);
const rows: Array<{ system: string; op: string; bytes: number; ms: number; round: number }> = [];
const raws: number[] = [];
try {
  mkdirSync(`${root}results/bench`, { recursive: true });
  const hostfile = `${os.tmpdir()}/tsrun-across-bench-${process.pid}.hosts`;
  writeFileSync(hostfile, `${cluster.addrs[0]} slots=1\n${cluster.addrs[1]} slots=1\n`);
  const started = Date.now();
  for (let round = 0; round < rounds; round++) {
    const raw = await rawRate(cluster.namespaces, cluster.addrs[1]);
    raws.push(raw);
    console.log(
      JSON.stringify({ peer: 'zeromq-raw', transport: 'tcp across namespaces', round, value: raw }),
    );
    const lines = await run(process.execPath, [
      here('../bin/tsrun.js'),
      '--hostfile',
      hostfile,
      ...cluster.sshOpts.map((o) => `--ssh-opt=${o}`),
      '-x',
      `SIZES=${sizes}`,
      '-x',
      `OPS=${OPS.join(',')}`,
      ...extraEnv,
      here('./collectives-rank.ts'),
    ]);
    for (const l of lines.map((x) => JSON.parse(x) as Line)) {
      const row = { system: 'tsrun', op: l.op, bytes: l.bytes, ms: l.sec * 1000, round };
      rows.push(row);
      console.log(JSON.stringify({ bench: 'across-hosts', world: 2, link: rate || 'veth', ...row }));
    }
    const done = round + 1;
    const eta = ((Date.now() - started) / done) * (rounds - done);
    console.error(`round ${done}/${rounds} done; ETA ${Math.round(eta / 1000)} s`);
  }
} finally {
  await cluster.teardown();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const raw = median(raws);
const load = os.loadavg().map((x) => Number(x.toFixed(2)));
const chartRows: Array<{ op: string; bytes: number; gbps: number; system: string }> = [];
for (const op of OPS) {
  for (const bytes of sizes.split(',').map(Number)) {
    const ms = median(rows.filter((r) => r.op === op && r.bytes === bytes).map((r) => r.ms));
    const busBytesPerSec = bytes / (ms / 1000);
    chartRows.push({ op, bytes, gbps: busBytesPerSec / 1e9, system: 'tsrun (bus bandwidth)' });
    chartRows.push({ op, bytes, gbps: raw / 1e9, system: 'raw zeromq.js one way' });
    console.log(
      JSON.stringify({
        summary: true,
        op,
        bytes,
        tsrun_ms: Number(ms.toFixed(2)),
        bus_gbps: Number((busBytesPerSec / 1e9).toFixed(3)),
        raw_tcp_gbps: Number((raw / 1e9).toFixed(3)),
        fraction_of_raw: Number((busBytesPerSec / raw).toFixed(3)),
        link: rate || 'veth (unshaped)',
        load_average: load,
      }),
    );
  }
}
const spec: TopLevelSpec = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: `2 hosts x 1 rank over TCP, ${rate ? `${rate} links` : 'veth links'} (median of ${rounds} rounds; load average ${load[0]})`,
  background: 'white',
  data: { values: chartRows },
  columns: 3,
  facet: { field: 'op', type: 'nominal', title: null, sort: OPS },
  spec: {
    width: 240,
    height: 200,
    mark: { type: 'line', point: true },
    encoding: {
      x: messageSizeAxis(sizes),
      y: { field: 'gbps', type: 'quantitative', title: 'GB/s' },
      color: { field: 'system', type: 'nominal', title: null, legend: { labelLimit: 300 } },
    },
  },
};
const chart = await renderChart(spec, `${root}results/bench`, 'across-hosts');
console.log(JSON.stringify({ chart: chart.svgFile, png: chart.pngFile }));
