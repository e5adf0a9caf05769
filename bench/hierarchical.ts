/**
 * npm run bench:hierarchical -- [--sizes 1048576,16777216,67108864] [--rounds 3] [--rate 1gbit]
 *
 * The hierarchical all-reduce against the flat ring across hosts, in one run: two network-namespace hosts
 * on a private bridge, each with a real sshd (test/helpers/netns.ts; needs root, iproute2 and
 * openssh-server), two ranks on each, launched by `tsrun --hostfile` over SSH. Each round runs the
 * all-reduce benchmark rank (bench/collectives-rank.ts) once hierarchical (TSRUN_HIERARCHICAL=1, the default)
 * and once flat (TSRUN_HIERARCHICAL=0), alternating, so both see the same machine. Prints one JSON line per measurement,
 * one summary line per size (median over rounds, ratio hierarchical / flat), and draws
 * results/bench/hierarchical.svg and .png.
 *
 * On one machine a veth "network" costs the same CPU copies as shared memory, so the network is not the slow
 * link it is between real hosts. `--rate` shapes each host's link (tc token bucket on its veth end, both
 * directions leave through one) to a real NIC's speed, e.g. 1gbit or 10gbit.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { TopLevelSpec } from 'vega-lite';
import { renderChart } from '../experiments/report/render-chart.js';
import { createNetnsCluster, netnsUnavailable, shapeLinks } from '../test/helpers/netns.js';
import { messageSizeAxis } from './size-axis.js';

const args = process.argv.slice(2);
const flag = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : def;
};
const sizes = flag('sizes', '1048576,16777216,67108864');
const rounds = Number(flag('rounds', '3'));
const rate = flag('rate', '');
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const root = here('../');

const why = netnsUnavailable();
if (why) {
  console.log(`skipped: the hierarchical benchmark needs two network-namespace hosts: ${why}`);
  process.exit(0);
}

interface Line {
  op: string;
  bytes: number;
  sec: number;
}

function runJob(hostfile: string, sshOpts: string[], flat: boolean): Promise<Line[]> {
  const argv = [
    here('../bin/tsrun.js'),
    '--hostfile',
    hostfile,
    ...sshOpts.map((o) => `--ssh-opt=${o}`),
    '-x',
    `SIZES=${sizes}`,
    '-x',
    'OPS=all_reduce',
    '-x',
    `TSRUN_HIERARCHICAL=${flat ? 0 : 1}`,
    here('./collectives-rank.ts'),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('close', (code) => {
      if (code !== 0) {
        reject(new Error(`tsrun exited with ${code}`));
        return;
      }
      resolve(
        out
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Line),
      );
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const cluster = await createNetnsCluster(2);
if (rate) shapeLinks(cluster, rate);
const rows: Array<{ system: string; bytes: number; ms: number; round: number }> = [];
try {
  mkdirSync(`${root}results/bench`, { recursive: true });
  const hostfile = `${os.tmpdir()}/tsrun-hier-bench-${process.pid}.hosts`;
  writeFileSync(hostfile, `${cluster.addrs[0]} slots=2\n${cluster.addrs[1]} slots=2\n`);
  const started = Date.now();
  for (let round = 0; round < rounds; round++) {
    for (const flat of round % 2 === 0 ? [false, true] : [true, false]) {
      const system = flat ? 'flat ring' : 'hierarchical';
      for (const l of await runJob(hostfile, cluster.sshOpts, flat)) {
        const row = { system, bytes: l.bytes, ms: l.sec * 1000, round };
        rows.push(row);
        console.log(
          JSON.stringify({ bench: 'hierarchical', world: 4, hosts: 2, link: rate || 'veth', ...row }),
        );
      }
    }
    const done = round + 1;
    const eta = ((Date.now() - started) / done) * (rounds - done);
    console.error(`round ${done}/${rounds} done; ETA ${Math.round(eta / 1000)} s`);
  }
} finally {
  await cluster.teardown();
}

const load = os.loadavg().map((x) => Number(x.toFixed(2)));
for (const bytes of sizes.split(',').map(Number)) {
  const of = (system: string) =>
    median(rows.filter((r) => r.system === system && r.bytes === bytes).map((r) => r.ms));
  const h = of('hierarchical');
  const f = of('flat ring');
  console.log(
    JSON.stringify({
      summary: true,
      op: 'all_reduce',
      bytes,
      hierarchical_ms: Number(h.toFixed(2)),
      flat_ring_ms: Number(f.toFixed(2)),
      ratio: Number((h / f).toFixed(3)),
      link: rate || 'veth (unshaped)',
      load_average: load,
    }),
  );
}
const spec: TopLevelSpec = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: `All-reduce across 2 hosts x 2 ranks, ${rate ? `${rate} links` : 'veth links'} (median of ${rounds} rounds; load average ${load[0]})`,
  background: 'white',
  width: 420,
  height: 260,
  data: { values: rows },
  mark: { type: 'line', point: true },
  encoding: {
    x: messageSizeAxis(sizes),
    y: {
      aggregate: 'median',
      field: 'ms',
      type: 'quantitative',
      scale: { type: 'log' },
      title: 'ms per call',
    },
    color: { field: 'system', type: 'nominal', title: 'algorithm' },
  },
};
const chart = await renderChart(spec, `${root}results/bench`, 'hierarchical');
console.log(JSON.stringify({ chart: chart.svgFile, png: chart.pngFile }));
