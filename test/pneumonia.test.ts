import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { generateXraySet } from '../experiments/datagen/xray.js';

// The experiment end to end on a small synthetic set at --image-size 64: real JPEGs, real processes.
// lr 0.001 / batch 16: the seed's lr 0.01 is tuned for 224² and 5,216 images, not 350 images × 4 epochs.

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const spmd = join(root, 'experiments/pneumonia/spmd.ts');
const dir = mkdtempSync(join(tmpdir(), 'tsrun-pneumonia-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const data = join(dir, 'xray');
const common = [
  '--input',
  data,
  '--image-size',
  '64',
  '--epochs',
  '4',
  '--batch',
  '16',
  '--lr',
  '0.001',
  '--seed',
  '1',
];

t.before(async () => {
  await generateXraySet({ out: data, scale: 0.06, size: 96, seed: 5 });
});

t.test('one rank: learns the synthetic set, prints the paper text, writes the JSON', async (t) => {
  const out = join(dir, 'one.json');
  const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', spmd, ...common, '--out', out], {
    cwd: root,
    maxBuffer: 1 << 24,
  });
  t.match(stderr, /backend (wasm|tfjs-node|cpu)/, 'chosen backend printed');
  t.match(stderr, /epoch 1\/4 batch 1\/\d+ loss [\d.]+ [\d.]+ img\/s ETA/, 'progress per batch');
  t.match(stdout, /Classes: NORMAL, PNEUMONIA/);
  t.match(stdout, /Epoch 4, training loss: [\d.]+/);
  t.match(stdout, /Images tested: 37/);
  const j = JSON.parse(readFileSync(out, 'utf8'));
  t.equal(j.experiment, 'pneumonia');
  t.equal(j.style, 'spmd');
  t.equal(j.ranks, 1);
  t.equal(j.epochs, 4);
  t.equal(j.losses.length, 4);
  t.ok(j.losses[3] < j.losses[0], `loss falls: ${j.losses}`);
  t.ok(j.accuracy >= 0.85, `test accuracy ${j.accuracy} ≥ 0.85`);
  t.ok(j.images_per_sec > 0 && j.seconds > 0);
});

t.test('a missing class folder fails with a message naming it', async (t) => {
  const half = join(dir, 'half');
  await generateXraySet({ out: half, scale: 0.002, size: 32, seed: 1 });
  rmSync(join(half, 'train', 'NORMAL'), { recursive: true });
  const err = await run(
    process.execPath,
    ['--import', 'tsx', spmd, '--input', half, '--image-size', '16', '--epochs', '1'],
    {
      cwd: root,
    },
  ).then(
    () => undefined,
    (e: { code: number; stderr: string }) => e,
  );
  t.ok(err, 'exits non-zero');
  t.match(err?.stderr, /ImageFolderError: image folder .*half\/train has no class folder 'NORMAL'/);
});

const haveInit = existsSync(join(root, 'src/index.ts'));
t.test(
  'two ranks under tsrun: same accuracy bar, parameters bitwise equal after every step',
  { skip: haveInit ? false : 'src/index.ts (init) not present yet' },
  async (t) => {
    const out = join(dir, 'two.json');
    const { stdout, stderr } = await run(
      process.execPath,
      [
        join(root, 'bin/tsrun.js'),
        '--standalone',
        '--nproc-per-node',
        '2',
        spmd,
        ...common,
        '--check-sync',
        '--out',
        out,
      ],
      { cwd: root, maxBuffer: 1 << 24 },
    );
    t.notMatch(stderr, /ParamsDivergedError/);
    t.match(stdout, /Images tested: 37/, 'every test image counted once over both ranks');
    const j = JSON.parse(readFileSync(out, 'utf8'));
    t.equal(j.ranks, 2);
    t.ok(
      j.steps > 0 && j.sync_checks === j.steps,
      `checksums compared after all ${j.steps} steps (${j.sync_checks})`,
    );
    t.ok(j.accuracy >= 0.85, `test accuracy ${j.accuracy} ≥ 0.85`);
  },
);
