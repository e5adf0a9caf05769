/**
 * Regenerates test/fixtures/pneumonia/torch-reference.json: makes the equivalence test's two sets and
 * trains bench/peers/cnn_torch_reference.py on each with the test's flags and seeds (Debian's
 * python3-torch and python3-torchvision, one thread). usage: npx tsx bench/pneumonia-torch-fixture.ts
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  EQUIVALENCE_SEEDS,
  EQUIVALENCE_SETS,
  EQUIVALENCE_FLAGS as F,
} from '../test/helpers/pneumonia-sets.js';

const peer = fileURLToPath(new URL('./peers/cnn_torch_reference.py', import.meta.url));
const fixture = fileURLToPath(new URL('../test/fixtures/pneumonia/torch-reference.json', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tsrun-torch-fixture-'));
try {
  for (const [name, make] of Object.entries(EQUIVALENCE_SETS)) {
    const input = join(dir, name);
    await make(input);
    execFileSync(
      '/usr/bin/python3',
      [
        peer,
        '--input',
        input,
        '--image-size',
        String(F.imageSize),
        '--epochs',
        String(F.epochs),
        '--batch',
        String(F.batch),
        '--lr',
        String(F.lr),
        ...(F.evalCrop ? ['--eval-crop'] : []),
        '--seeds',
        EQUIVALENCE_SEEDS.join(','),
        '--fixture',
        fixture,
        '--set-name',
        name,
        '--set-args',
        `test/helpers/pneumonia-sets.ts EQUIVALENCE_SETS.${name}`,
      ],
      { stdio: 'inherit', env: { ...process.env, THREADS: '1' } },
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
