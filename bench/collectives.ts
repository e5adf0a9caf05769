/**
 * npm run bench:collectives -- [--world 2] [--sizes 4,1024,...] [--no-peer] [--no-curve]
 *
 * Runs the tsrun collectives benchmark on `--world` local ranks (data plane PLAIN+token, then CURVE),
 * the raw zeromq.js bandwidth probe, and — when /usr/bin/python3 has torch — the torch.distributed gloo
 * peer (../shared/peers/torch_gloo.py) in the same run. Prints every JSON line, then one line per
 * (op, bytes) with the ratio tsrun/gloo, and the large-message bandwidth as a share of raw zeromq.js.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  freePort,
  makeRankEnv,
  newJobSecret,
  spawnLocalRanks,
  tsxCommand,
} from '../launcher/local-spawner.js';

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
const peersDir = here('../../shared/peers/');

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

async function runTsrun(encrypt: boolean): Promise<Line[]> {
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
    p.on('exit', () => resolve(lines));
  });
}

function pythonHas(mod: string): boolean {
  return (
    existsSync('/usr/bin/python3') && spawnSync('/usr/bin/python3', ['-c', `import ${mod}`]).status === 0
  );
}

const plain = await runTsrun(false);
const curve = args.includes('--no-curve') ? [] : await runTsrun(true);
const raw = await runCommand(process.execPath, [...tsxCommand(here('./zmq-bandwidth.ts'))], process.env);
let gloo: Line[] = [];
if (!args.includes('--no-peer') && pythonHas('torch') && existsSync(`${peersDir}torch_gloo.py`)) {
  gloo = await runCommand('bash', [`${peersDir}spawn_env.sh`, String(world), `${peersDir}torch_gloo.py`], {
    ...process.env,
    SIZES: sizes,
    MASTER_PORT: String(await freePort()),
  });
} else if (!args.includes('--no-peer')) {
  console.error('bench: /usr/bin/python3 has no torch; skipping the gloo peer');
}

const rawIpc = raw.find((r) => r.transport === 'ipc')?.value;
for (const t of plain) {
  const g = gloo.find((x) => x.op === t.op && x.bytes === t.bytes);
  const c = curve.find((x) => x.op === t.op && x.bytes === t.bytes);
  const out: Record<string, unknown> = { summary: true, op: t.op, world, bytes: t.bytes, tsrun_sec: t.sec };
  if (g?.sec) out.ratio_vs_gloo = Number(((t.sec ?? 0) / g.sec).toFixed(3));
  if (c?.sec) out.curve_sec = c.sec;
  if (rawIpc && t.sec && (t.bytes ?? 0) >= 1 << 24) {
    // Bytes each rank must move one way: all_reduce 2(n-1)/n·B, broadcast B, all_gather (n-1)·B.
    const b = t.bytes ?? 0;
    const moved =
      t.op === 'all_reduce' ? (2 * (world - 1) * b) / world : t.op === 'all_gather' ? (world - 1) * b : b;
    out.share_of_raw_bandwidth = Number((moved / t.sec / rawIpc).toFixed(3));
  }
  console.log(JSON.stringify(out));
}
