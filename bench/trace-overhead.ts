/**
 * npx tsx bench/trace-overhead.ts [--rounds 3] [--tasks 5000] [--only collectives|tasks]
 *
 * The cost of `--trace`: runs bench/collectives.ts (2 ranks, 4 B .. 16 MiB, plain data plane) and
 * bench/tasks.ts (embedded pool) alternately without and with TSRUN_TRACE_DIR set, `--rounds` times each,
 * and prints one JSON line per measured quantity with the median of each mode and the ratio traced/plain
 * of its time (so > 1 means slower with tracing), then a summary line per benchmark.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsxCommand } from '../src/process/local-spawner.js';

const args = process.argv.slice(2);
const flag = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : def;
};
const rounds = Number(flag('rounds', '3'));
const tasks = flag('tasks', '5000');
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

interface Line {
  op?: string;
  bytes?: number;
  sec?: number;
  metric?: string;
  via?: string;
  value?: number;
  peer?: string;
  mode?: string;
}

/** Seconds per unit of work for each quantity of one run (higher = slower). */
function run(script: string, argv: string[], traced: boolean): Map<string, number> {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-trace-bench-'));
  const env = { ...process.env, ...(traced ? { TSRUN_TRACE_DIR: dir } : {}) };
  const r = spawnSync(process.execPath, tsxCommand(here(script), argv), {
    env,
    encoding: 'utf8',
  });
  rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr}`);
  const out = new Map<string, number>();
  for (const l of r.stdout.split('\n')) {
    if (!l.startsWith('{')) continue;
    const x = JSON.parse(l) as Line;
    if (x.peer !== 'tsrun') continue;
    if (x.op && x.sec !== undefined) out.set(`${x.op}:${x.bytes}`, x.sec);
    else if (x.metric && x.value !== undefined) {
      const key = `${x.metric}${x.via ? `:${x.via}` : ''}${x.bytes ? `:${x.bytes}` : ''}`;
      out.set(key, x.metric.endsWith('_per_sec') ? 1 / x.value : x.value);
    }
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const BENCHES: Array<[string, string, string[]]> = [
  [
    'collectives',
    './collectives.ts',
    ['--world', '2', '--sizes', '4,65536,1048576,16777216', '--no-peer', '--no-curve'],
  ],
  ['tasks', './tasks.ts', [tasks, '--no-peer']],
];

const only = flag('only', '');
for (const [name, script, argv] of BENCHES.filter(([n]) => !only || n === only)) {
  const samples: Record<'plain' | 'traced', Map<string, number[]>> = { plain: new Map(), traced: new Map() };
  for (let i = 0; i < rounds; i++) {
    for (const mode of ['plain', 'traced'] as const) {
      for (const [k, v] of run(script, argv, mode === 'traced'))
        samples[mode].set(k, [...(samples[mode].get(k) ?? []), v]);
    }
  }
  const ratios: number[] = [];
  for (const [k, plain] of samples.plain) {
    const traced = samples.traced.get(k);
    if (!traced) continue;
    const ratio = median(traced) / median(plain);
    ratios.push(ratio);
    console.log(
      JSON.stringify({ bench: name, quantity: k, plain: median(plain), traced: median(traced), ratio }),
    );
  }
  const geo = Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length);
  console.log(
    JSON.stringify({ bench: name, summary: 'geometric mean of traced/plain time', ratio: geo, rounds }),
  );
}
