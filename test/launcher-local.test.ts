// Local and per-node modes through the real CLI: 1–4 ranks, torchrun's variables, -x, --tag-output,
// --log-dir, two per-node agents on loopback forming one job, and the usage errors (exit code 2).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { freePort } from '../src/process/local-spawner.js';
import { REPORT_RANK, reports, runTsrun, writeRankPrograms } from './helpers/ssh-tsrun.js';

const progs = writeRankPrograms({ 'report.mts': REPORT_RANK });
t.teardown(progs.remove);
const report = progs.path('report.mts');

t.test('--nproc-per-node 1..4: each rank gets torchrun variables and the job secret', async (t) => {
  for (const n of [1, 2, 3, 4]) {
    const r = await runTsrun(['--nproc-per-node', String(n), report, 'a', '--b']);
    t.equal(r.code, 0, `${n} ranks exit 0: ${r.stderr}`);
    const rs = reports(r.stdout);
    t.same(
      rs.map((x) => [x.rank, x.localRank, x.world, x.localWorld, x.group]),
      Array.from({ length: n }, (_, i) => [i, i, n, n, 0]),
      `${n} ranks numbered 0..${n - 1}`,
    );
    t.ok(
      rs.every((x) => /^[0-9a-f]{64}$/.test(x.secret) && x.secret === rs[0].secret),
      'one 64-hex secret per job',
    );
    t.ok(
      rs.every((x) => x.masterAddr === '127.0.0.1' && x.masterPort > 0 && x.masterPort === rs[0].masterPort),
    );
    t.ok(
      rs.every((x) => x.args.join(' ') === 'a --b' && x.restart === 0),
      'script args pass untouched',
    );
  }
});

t.test('underscore aliases, --standalone, -x, --tag-output, --log-dir', async (t) => {
  const logDir = mkdtempSync(join(tmpdir(), 'tsrun-logs-'));
  t.teardown(() => rmSync(logDir, { recursive: true, force: true }));
  const r = await runTsrun(
    ['--standalone', '--nproc_per_node', '2', '-x', 'FOO=bar', '--tag_output', '--log-dir', logDir, report],
    { FOO: 'not-this' },
  );
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.ok(lines.length === 2 && lines.every((l) => /^\[[01]\] \{/.test(l)), 'every line tagged with [rank]');
  t.ok(
    reports(r.stdout).every((x) => x.foo === 'bar'),
    '-x NAME=VALUE reaches every rank',
  );
  for (const rank of [0, 1]) {
    const log = readFileSync(join(logDir, `rank-${rank}.log`), 'utf8');
    t.equal(JSON.parse(log.trim()).rank, rank, `rank-${rank}.log holds that rank's untagged output`);
  }
  const fwd = await runTsrun(['--nproc-per-node', '1', '-x', 'FOO', report], { FOO: 'from-env' });
  t.equal(reports(fwd.stdout)[0].foo, 'from-env', '-x NAME forwards tsrun’s own value');
});

t.test('two per-node agents on loopback form one job (the paper’s torchrun commands)', async (t) => {
  const port = await freePort();
  const secret = 'ab'.repeat(32);
  const common = [
    '--nnodes',
    '2',
    '--nproc-per-node',
    '2',
    '--master-addr',
    '127.0.0.1',
    '--master-port',
    String(port),
  ];
  const [n0, n1] = await Promise.all([
    runTsrun([...common, '--node-rank', '0', report], { TSRUN_JOB_SECRET: secret }),
    runTsrun([...common, '--node_rank', '1', report], { TSRUN_JOB_SECRET: secret }),
  ]);
  t.equal(n0.code, 0, n0.stderr);
  t.equal(n1.code, 0, n1.stderr);
  const rs = [...reports(n0.stdout), ...reports(n1.stdout)].sort((a, b) => a.rank - b.rank);
  t.same(
    rs.map((x) => [x.rank, x.localRank, x.group, x.world, x.localWorld]),
    [
      [0, 0, 0, 4, 2],
      [1, 1, 0, 4, 2],
      [2, 0, 1, 4, 2],
      [3, 1, 1, 4, 2],
    ],
    'global ranks are node-major',
  );
  t.ok(
    rs.every((x) => x.secret === secret && x.masterPort === port),
    'same secret and master everywhere',
  );

  // Without TSRUN_JOB_SECRET both nodes still agree (derived secret), with a warning.
  const env = { TSRUN_JOB_SECRET: '' };
  const [m0, m1] = await Promise.all([
    runTsrun([...common, '--node-rank', '0', report], env),
    runTsrun([...common, '--node-rank', '1', report], env),
  ]);
  t.equal(reports(m0.stdout)[0].secret, reports(m1.stdout)[0].secret, 'nodes derive the same secret');
  t.match(m0.stderr, /TSRUN_JOB_SECRET is not set/);
});

t.test('usage errors: one line, exit code 2, nothing started', async (t) => {
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  t.teardown(() => busy.close());
  const busyPort = (busy.address() as { port: number }).port;
  const hf = writeRankPrograms({ bad: 'node1 slots=2\nnode2 slots=x\n' });
  t.teardown(hf.remove);
  const cases: [string[], RegExp][] = [
    [['--nproc-per-node', '2', '--bogus', report], /Unknown argument: bogus/],
    [[], /missing script/],
    [['no-such-script.ts'], /script not found: no-such-script\.ts/],
    [
      ['--hostfile', hf.path('bad'), report],
      new RegExp(`${hf.path('bad')}:2: slots must be a positive integer`),
    ],
    [['--hostfile', '/nonexistent/hosts', report], /cannot read hostfile \/nonexistent\/hosts/],
    [
      ['--nnodes', '3', '--node-rank', '3', report],
      /--node-rank 3 is out of range for --nnodes 3 \(0\.\.2\)/,
    ],
    [['--nproc-per-node', 'lots', report], /--nproc-per-node must be an integer/],
    [['--master-port', String(busyPort), report], new RegExp(`master port ${busyPort} on 127.0.0.1 is busy`)],
    [['-x', '1BAD=2', report], /'1BAD' is not an environment variable name/],
  ];
  for (const [args, re] of cases) {
    const r = await runTsrun(args);
    t.equal(r.code, 2, `exit 2 for ${args.join(' ')}`);
    t.match(r.stderr, re);
    t.equal(r.stderr.trim().split('\n').length, 1, 'a single line');
    t.equal(r.stdout, '', 'no rank ran');
  }
});

t.test('--help lists every flag', async (t) => {
  const r = await runTsrun(['--help']);
  t.equal(r.code, 0);
  for (const flag of [
    '--nproc-per-node',
    '--nnodes',
    '--node-rank',
    '--master-addr',
    '--master-port',
    '--standalone',
    '--hostfile',
    '--hosts',
    '--ssh-opt',
    '--remote-cwd',
    '--pool',
    '--tag-output',
    '--log-dir',
    '-x',
    '--max-restarts',
    '--dashboard-port',
  ]) {
    t.ok(r.stdout.includes(flag), flag);
  }
  t.notOk(existsSync(join(process.cwd(), 'rank-0.log')));
});
