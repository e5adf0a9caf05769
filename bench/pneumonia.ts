/**
 * Pneumonia CNN training throughput: tsrun (1 rank as a child process, 2 ranks under the launcher)
 * against bench/peers/cnn_torch.py (Debian's torch) with 1 and 2 threads, in the same run. 224², batch 64 per rank.
 * Torch runs with glibc told to keep its memory (see KEEP_MEMORY), and once more with 1 thread as installed.
 * Prints one JSON line per measurement, then a ratio line per thread count (targets: ≥ 0.9× torch
 * on 1 rank vs 1 thread, ≥ 1.0× on 2 ranks vs 2 threads) with the load average at the start and end.
 * usage: npx tsx bench/pneumonia.ts [STEPS=3]. Wall-clock figures: run it on a quiet machine.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const steps = process.argv[2] ?? '3';
const root = fileURLToPath(new URL('..', import.meta.url));
const rankScript = fileURLToPath(new URL('./pneumonia-rank.ts', import.meta.url));
const peer = fileURLToPath(new URL('./peers/cnn_torch.py', import.meta.url));

function lastJson(out: string): Record<string, unknown> | undefined {
  const line = out
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  return line ? (JSON.parse(line) as Record<string, unknown>) : undefined;
}

function run(label: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): number | undefined {
  try {
    const out = execFileSync(cmd, args, {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const j = lastJson(out);
    if (j) console.log(JSON.stringify(env.MALLOC_MMAP_MAX_ ? { ...j, allocator: 'memory kept' } : j));
    return typeof j?.images_per_sec === 'number' ? j.images_per_sec : undefined;
  } catch (err) {
    console.log(
      JSON.stringify({
        peer: label,
        error: String((err as Error).message)
          .split('\n')[0]
          .slice(0, 300),
      }),
    );
    return undefined;
  }
}

const loadStart = loadavg()[0];
const tsx = ['--import', 'tsx'];
const ours1 = run('tsrun', process.execPath, [...tsx, rankScript, steps]);
let ours2: number | undefined;
if (existsSync(`${root}/src/index.ts`)) {
  ours2 = run('tsrun', process.execPath, [
    `${root}/bin/tsrun.js`,
    '--standalone',
    '--nproc-per-node',
    '2',
    rankScript,
    steps,
  ]);
} else {
  console.log(JSON.stringify({ peer: 'tsrun', ranks: 2, error: 'src/index.ts (init) not present yet' }));
}
// torch allocates every activation afresh; glibc serves those (tens of MB) with mmap and unmaps them on
// free, so each step faults its pages in again. On VMs where a fresh page is expensive (measured here:
// ~2.8 ms per MiB) that alone made torch 5.0 img/s instead of 47. The ratio is taken against torch
// with its memory kept (no mmap, no trim: the peer at its best); the default allocator is printed too.
const KEEP_MEMORY = { MALLOC_MMAP_MAX_: '0', MALLOC_TRIM_THRESHOLD_: String(2 ** 36) };
const torchDefault1 = run('torch-cpu', '/usr/bin/python3', [peer, steps], { THREADS: '1' });
const torch1 = run('torch-cpu', '/usr/bin/python3', [peer, steps], { THREADS: '1', ...KEEP_MEMORY });
const torch2 = run('torch-cpu', '/usr/bin/python3', [peer, steps], { THREADS: '2', ...KEEP_MEMORY });
const loadEnd = loadavg()[0];
for (const [n, a, b, target] of [
  [1, ours1, torch1, 0.9],
  [2, ours2, torch2, 1.0],
] as const) {
  if (a !== undefined && b !== undefined) {
    console.log(
      JSON.stringify({
        peer: 'ratio',
        exp: 'cnn-train',
        threads: n,
        tsrun_over_torch: a / b,
        torch_allocator: 'memory kept (MALLOC_MMAP_MAX_=0)',
        ...(n === 1 && torchDefault1 !== undefined
          ? { tsrun_over_torch_default_allocator: a / torchDefault1 }
          : {}),
        target,
        load_avg_1m: [loadStart, loadEnd],
      }),
    );
  }
}
