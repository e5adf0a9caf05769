/**
 * `npm start -- --quick` with the real experiments, launcher and generators: the CI form of the main
 * job. Skipped, with the missing file named, until every experiment script of the contract exists.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import t from 'tap';
import { tsxCommand } from '../src/process/local-spawner.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NEEDED = [
  'bin/tsrun.js',
  'src/index.ts',
  'experiments/datagen/graph.ts',
  'experiments/datagen/xray.ts',
  ...['kmeans', 'pagerank', 'pneumonia'].flatMap((e) => [
    `experiments/${e}/spmd.ts`,
    `experiments/${e}/pool.ts`,
  ]),
];
const missing = NEEDED.filter((f) => !existsSync(join(ROOT, f)));

t.test(
  'run-all --quick: every cell of the small grid, the charts and REPORT.md',
  { skip: missing.length > 0 && `not in the tree yet: ${missing.join(', ')}`, timeout: 280_000 },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'tsrun-quick-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const args = ['--quick', '--results', join(dir, 'results'), '--data', join(dir, 'data')];
    const run = await new Promise<{ code: number; stderr: string }>((done) =>
      execFile(
        process.execPath,
        tsxCommand(join(ROOT, 'experiments/run-all.ts'), args),
        { cwd: ROOT, timeout: 270_000, maxBuffer: 64 * 1024 * 1024 },
        (err, _out, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
      ),
    );
    t.equal(run.code, 0, run.stderr.split('\n').slice(-40).join('\n'));
    const json = (await readdir(join(dir, 'results/json'))).filter(
      (n) => n.endsWith('.json') && !n.startsWith('.'),
    );
    t.equal(json.length, 20, '2 modes × 2 graph experiments × 2 node counts × 2 styles + 4 CNN cells');
    const report = await readFile(join(dir, 'results/REPORT.md'), 'utf8');
    t.match(report, '## k-means');
    t.match(report, '## PageRank');
    t.match(report, '## Pneumonia CNN');
    t.notMatch(report, '## Cells without a result');
    for (const chart of [
      'kmeans-paper-time-vs-nodes',
      'pagerank-global-time-vs-nodes',
      'pneumonia-accuracy',
    ]) {
      const meta = await sharp(await readFile(join(dir, 'results/charts', `${chart}.png`))).metadata();
      t.equal(meta.format, 'png', `${chart}.png decodes`);
    }
  },
);
