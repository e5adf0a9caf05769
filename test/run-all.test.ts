/**
 * The grid runner end to end with real child processes: stand-in experiments and a stand-in launcher
 * (test/fixtures/report/standin/) that honour the contract flags, so resume, --force, failures and
 * timeouts are checked without depending on how long the real experiments take.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STANDIN = join(ROOT, 'test/fixtures/report/standin');
const TSX = import.meta.resolve('tsx');

interface Run {
  code: number;
  stderr: string;
}

function runAll(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', TSX, join(ROOT, 'experiments/run-all.ts'), ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 120_000 },
      (err, _stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

async function workdir(t: { teardown: (fn: () => unknown) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tsrun-run-all-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const standinArgs = (dir: string) => [
  '--experiments-dir',
  STANDIN,
  '--launcher',
  join(STANDIN, 'fake-launcher.ts'),
  '--results',
  join(dir, 'results'),
  '--data',
  join(dir, 'data'),
  '--peers',
  'off',
];

/** Alive and not a zombie: an orphan's exit may wait for a reaper (pid 1 in a container may not reap). */
async function running(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

const lines = async (file: string) =>
  existsSync(file) ? (await readFile(file, 'utf8')).trim().split('\n') : [];

t.test(
  'a failing cell is reported, the others kept; resume reruns only it; --force reruns all',
  async (t) => {
    const dir = await workdir(t);
    const log = join(dir, 'runs.log');
    const args = [
      ...standinArgs(dir),
      ...[
        '--sizes',
        '10kb',
        '--ranks',
        '1,2',
        '--experiments',
        'kmeans,pneumonia',
        '--kmeans-modes',
        'paper',
      ],
    ];

    const first = await runAll(args, { STANDIN_FAIL: 'kmeans/pool/2', STANDIN_LOG: log });
    t.equal(first.code, 1, 'exit code 1 when a cell failed');
    t.match(first.stderr, /cell 1\/8 kmeans_10kb_1nodes_spmd_paper: running \| elapsed \d+s \| ETA \?/);
    t.match(first.stderr, /cell 4\/8 kmeans_10kb_2nodes_pool_paper: FAILED in \d+s \(exit code 3\)/);
    t.match(first.stderr, /standin: kmeans\/pool\/2 fails on purpose/, 'the failure shows the child stderr');
    t.match(first.stderr, /cell 8\/8 pneumonia_xray_2nodes_pool: ok/, 'cells after the failure still ran');
    const json = join(dir, 'results/json');
    t.same((await readdir(json)).filter((n) => !n.startsWith('.')).sort(), [
      'kmeans_10kb_1nodes_pool_paper.json',
      'kmeans_10kb_1nodes_spmd_paper.json',
      'kmeans_10kb_2nodes_spmd_paper.json',
      'pneumonia_xray_1nodes_pool.json',
      'pneumonia_xray_1nodes_spmd.json',
      'pneumonia_xray_2nodes_pool.json',
      'pneumonia_xray_2nodes_spmd.json',
    ]);
    const r = JSON.parse(await readFile(join(json, 'kmeans_10kb_2nodes_spmd_paper.json'), 'utf8'));
    t.equal(r.ranks, 2, 'the SPMD cell ran on 2 ranks through the launcher');
    t.equal(r.cell.nodes, 2);
    t.equal(r.cell.size, '10kb');
    t.ok(r.cell.size_bytes > 1000, 'real input size recorded');
    t.match(
      await readFile(join(dir, 'results/res/kmeans_10kb_2nodes_spmd_paper.txt'), 'utf8'),
      'kmeans spmd nodes=2',
    );
    const summary = JSON.parse(await readFile(join(dir, 'results/run-summary.json'), 'utf8'));
    t.same(
      summary.cells
        .filter((c: { status: string }) => c.status === 'failed')
        .map((c: { stem: string }) => c.stem),
      ['kmeans_10kb_2nodes_pool_paper'],
    );
    const report = await readFile(join(dir, 'results/REPORT.md'), 'utf8');
    t.match(report, '| kmeans_10kb_2nodes_pool_paper | exit code 3 |', 'the report lists the failed cell');
    t.ok(
      existsSync(join(dir, 'results/charts/kmeans-paper-time-vs-nodes.png')),
      'charts drawn from the others',
    );
    t.equal((await lines(log)).length, 7);

    const second = await runAll(args, { STANDIN_LOG: log });
    t.equal(second.code, 0, 'resumed run succeeds');
    t.match(second.stderr, /kmeans_10kb_1nodes_spmd_paper: done before, skipped/);
    t.match(second.stderr, /7 skipped/);
    t.same((await lines(log)).slice(7), ['kmeans pool 2 paper'], 'only the failed cell ran again');

    const third = await runAll([...args, '--force', '--experiments', 'pneumonia', '--no-report'], {
      STANDIN_LOG: log,
    });
    t.equal(third.code, 0);
    t.same(
      (await lines(log)).slice(8).sort(),
      ['pneumonia pool 1 -', 'pneumonia pool 2 -', 'pneumonia spmd 1 -', 'pneumonia spmd 2 -'],
      '--force reran every selected cell although each had a result',
    );
  },
);

// 8 s, not less: under load, starting two tsx ranks alone took over 3 s, and the check needs both to have started.
t.test('a cell over --cell-timeout is stopped with its whole process group and marked failed', async (t) => {
  const dir = await workdir(t);
  const pids = join(dir, 'pids');
  const run = await runAll(
    [
      ...standinArgs(dir),
      ...['--sizes', '10kb', '--ranks', '2', '--styles', 'spmd', '--experiments', 'pagerank'],
      ...['--pagerank-modes', 'global', '--cell-timeout', '8', '--no-report'],
    ],
    { STANDIN_SLEEP: 'pagerank/spmd/2', STANDIN_PIDS: pids },
  );
  t.equal(run.code, 1);
  t.match(
    run.stderr,
    /pagerank_10kb_2nodes_spmd_global: FAILED in \d+s \(timed out after 8s \(--cell-timeout\)\)/,
  );
  const ranks = (await lines(pids)).map(Number);
  t.equal(ranks.length, 2, 'both ranks had started');
  for (const pid of ranks) t.notOk(await running(pid), `rank process ${pid} was stopped`);
  t.notOk(existsSync(join(dir, 'results/json/pagerank_10kb_2nodes_spmd_global.json')), 'no result for it');
});

t.test('a failed data generator fails its cells with the reason; other experiments still run', async (t) => {
  const dir = await workdir(t);
  const run = await runAll(
    [
      ...standinArgs(dir),
      ...[
        '--sizes',
        '10kb',
        '--ranks',
        '1',
        '--styles',
        'pool',
        '--experiments',
        'kmeans,pneumonia',
        '--kmeans-modes',
        'global',
      ],
    ],
    { STANDIN_DATAGEN_FAIL: '1' },
  );
  t.equal(run.code, 1);
  t.match(
    run.stderr,
    /kmeans_10kb_1nodes_pool_global: FAILED in 0s \(input missing: could not generate graph-10kb: exit code 4/,
  );
  t.match(run.stderr, /pneumonia_xray_1nodes_pool: ok/);
  t.notOk(existsSync(join(dir, 'data/graph-10kb.csv')), 'no half-written input left as if complete');
});

t.test('a bad flag is refused with the flag named, before anything runs', async (t) => {
  const dir = await workdir(t);
  const run = await runAll([...standinArgs(dir), '--sizes', 'huge']);
  t.equal(run.code, 2, 'exit code 2 for a usage error');
  t.match(run.stderr, /--sizes: "huge" is not a size: use tiny, test, 1gb/);
  t.notOk(existsSync(join(dir, 'data')), 'nothing was generated');
});

t.test(
  '--hostfile: N nodes are the first N hosts; a pool job gets one more slot for its driver',
  async (t) => {
    const dir = await workdir(t);
    const hostfile = join(dir, 'hosts');
    await writeFile(hostfile, '# two machines\nlocalhost slots=4\n127.0.0.1 slots=2\n');
    const run = await runAll([
      ...standinArgs(dir),
      ...[
        '--hostfile',
        hostfile,
        '--sizes',
        '10kb',
        '--ranks',
        '2',
        '--experiments',
        'pagerank',
        '--pagerank-modes',
        'paper',
      ],
    ]);
    t.equal(run.code, 0, run.stderr);
    const spmd = JSON.parse(
      await readFile(join(dir, 'results/json/pagerank_10kb_2nodes_spmd_paper.json'), 'utf8'),
    );
    const pool = JSON.parse(
      await readFile(join(dir, 'results/json/pagerank_10kb_2nodes_pool_paper.json'), 'utf8'),
    );
    t.equal(spmd.ranks, 2);
    t.equal(pool.ranks, 2, 'pool: 3 ranks = driver + 2 workers');
    t.match(pool.cell.command, /--pool --hostfile/);
    t.equal(
      await readFile(join(dir, 'results/hostfiles/2nodes-pool.hostfile'), 'utf8').then((s) =>
        s.split('\n').slice(1, 3).join(','),
      ),
      'localhost slots=2,127.0.0.1 slots=1',
    );
  },
);

const realLauncher = join(ROOT, 'bin/tsrun.js');
t.test(
  'an SPMD cell through the real launcher (bin/tsrun.js)',
  { skip: !existsSync(join(ROOT, 'launcher/cli.ts')) && 'launcher not in the tree yet' },
  async (t) => {
    const dir = await workdir(t);
    const args = standinArgs(dir).map((a) => (a.endsWith('fake-launcher.ts') ? realLauncher : a));
    const run = await runAll([
      ...args,
      ...[
        '--sizes',
        '10kb',
        '--ranks',
        '2',
        '--styles',
        'spmd',
        '--experiments',
        'kmeans',
        '--kmeans-modes',
        'paper',
        '--no-report',
      ],
    ]);
    t.equal(run.code, 0, run.stderr);
    const r = JSON.parse(
      await readFile(join(dir, 'results/json/kmeans_10kb_2nodes_spmd_paper.json'), 'utf8'),
    );
    t.equal(r.ranks, 2, 'the real launcher started 2 ranks with WORLD_SIZE=2');
  },
);
