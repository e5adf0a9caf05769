import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { generateXraySet } from '../experiments/datagen/xray.js';

// pool.ts with the embedded pool: 2 workers form a process group and train; the driver prints the
// per-epoch metrics they stream and writes the JSON. Same small set and bar as pneumonia.test.ts.

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tsrun-pneumonia-pool-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const data = join(dir, 'xray');

/** The environment without tap's loader hooks, which the pool's worker processes must not inherit. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('TAP') && k !== 'NODE_OPTIONS') env[k] = v;
  return env;
}

// The collectives' idle watcher once destroyed pool.spmd groups while a rank awaited sharp's decoding;
// it no longer destroys anything unless TSRUN_AUTO_DESTROY=1, so this runs.
t.test('two pool workers: metrics streamed to the driver, accuracy ≥ 0.85, JSON written', async (t) => {
  await generateXraySet({ out: data, scale: 0.06, size: 96, seed: 5 });
  const out = join(dir, 'pool.json');
  const args = ['--input', data, '--workers', '2', '--image-size', '64', '--epochs', '4', '--batch', '16'];
  const { stdout, stderr } = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      join(root, 'experiments/pneumonia/pool.ts'),
      ...args,
      '--lr',
      '0.001',
      '--seed',
      '1',
      '--out',
      out,
    ],
    { cwd: root, maxBuffer: 1 << 24, env: childEnv(), timeout: 240_000 },
  );
  t.match(stderr, /backend (wasm|tfjs-node|cpu), 2 pool worker/);
  t.match(stderr, /epoch 4: loss [\d.]+ val accuracy/, 'per-epoch metrics reached the driver');
  t.match(stdout, /Images tested: 37/);
  const j = JSON.parse(readFileSync(out, 'utf8'));
  t.equal(j.style, 'pool');
  t.equal(j.ranks, 2);
  t.equal(j.losses.length, 4);
  t.ok(j.accuracy >= 0.85, `test accuracy ${j.accuracy} ≥ 0.85`);
});
