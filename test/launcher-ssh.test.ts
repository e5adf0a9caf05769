// SSH mode against real sshd processes, each in its own network namespace with its own address
// (test/helpers/netns.ts). Ranks report their addresses, proving they ran on different "hosts".
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import t from 'tap';
import { createNetnsCluster, netnsUnavailable } from './helpers/netns.js';
import {
  REPORT_RANK,
  reports,
  runTsrun,
  startTsrun,
  waitUntil,
  writeRankPrograms,
} from './helpers/ssh-tsrun.js';

const why = netnsUnavailable();
if (why) {
  t.plan(0, `skipped: SSH launcher tests need real hosts: ${why}`);
} else {
  const cluster = await createNetnsCluster(3);
  t.teardown(cluster.teardown);
  const progs = writeRankPrograms({ 'report.mts': REPORT_RANK });
  t.teardown(progs.remove);
  const report = progs.path('report.mts');
  const hostfile = progs.path('hostfile');
  writeFileSync(
    hostfile,
    `# test cluster\n${cluster.addrs[0]} slots=1\n${cluster.addrs[1]} slots=2\n\n${cluster.addrs[2]}\n`,
  );
  const sshArgs = cluster.sshOpts.map((o) => `--ssh-opt=${o}`);
  const hostOfRank = [0, 1, 1, 2].map((i) => cluster.addrs[i]);
  const jobPids = () => cluster.namespaces.flatMap((_, i) => cluster.pidsIn(i));
  const allGone = () => waitUntil(() => jobPids().length === 0, 10_000);

  t.test('hostfile launch: ranks on every host, secret never on a command line', async (t) => {
    const run = startTsrun([
      '--hostfile',
      hostfile,
      ...sshArgs,
      '--tag-output',
      '-x',
      'SLEEP_MS=1500',
      '-x',
      'FOO=x',
      report,
    ]);
    const lines = await Promise.all([0, 1, 2, 3].map((r) => run.waitFor(new RegExp(`^\\[${r}\\] \\{`))));
    const secret = JSON.parse(lines[0].replace(/^\[\d\] /, '')).secret as string;
    const psArgs = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    t.notOk(psArgs.includes(secret), 'the job secret is on no command line that ps shows');
    const r = await run.result;
    t.equal(r.code, 0, r.stderr);
    const rs = reports(r.stdout);
    t.same(
      rs.map((x) => [x.rank, x.localRank, x.group, x.world, x.localWorld]),
      [
        [0, 0, 0, 4, 1],
        [1, 0, 1, 4, 2],
        [2, 1, 1, 4, 2],
        [3, 0, 2, 4, 1],
      ],
    );
    t.same(
      rs.map((x) => x.addrs),
      hostOfRank.map((a) => [a]),
      'each rank ran in the namespace of its host',
    );
    t.ok(
      rs.every((x) => x.masterAddr === cluster.addrs[0] && x.masterPort === rs[0].masterPort),
      'rank 0 host is master',
    );
    t.ok(
      rs.every((x) => x.secret === secret && /^[0-9a-f]{64}$/.test(secret) && x.foo === 'x'),
      'secret and -x over stdin',
    );
    t.ok(
      rs.every((x) => x.cwd === process.cwd()),
      'same working directory',
    );
    t.ok(await allGone(), 'nothing left on any host');
  });

  t.test('a remote rank exits 3: every host cleaned up, root cause names host and rank', async (t) => {
    const r = await runTsrun([
      '--hostfile',
      hostfile,
      ...sshArgs,
      '-x',
      'FAIL_RANK=2',
      '-x',
      'SLEEP_MS=60000',
      report,
    ]);
    t.equal(r.code, 3);
    t.match(
      r.stderr,
      new RegExp(`host: +${cluster.addrs[1].replace(/\./g, '\\.')}\\n {4}rank: +2\\n {4}status: exit code 3`),
    );
    t.match(r.stderr, /\| boom on rank 2/);
    t.ok(await allGone(), 'every rank on every host gone within 10 s');
  });

  t.test('SIGKILL of a remote rank: job exits 137, all hosts clean; time measured', async (t) => {
    const run = startTsrun(['--hostfile', hostfile, ...sshArgs, '-x', 'SLEEP_MS=60000', report]);
    const lines = await Promise.all([0, 1, 2, 3].map((r) => run.waitFor(new RegExp(`^\\{"rank":${r},`))));
    const victim = JSON.parse(lines[3]).pid as number;
    const t0 = Date.now();
    process.kill(victim, 'SIGKILL');
    const r = await run.result;
    const gone = await allGone();
    const ms = Date.now() - t0;
    t.equal(r.code, 137);
    t.match(r.stderr, /rank: +3\n {4}status: killed by signal SIGKILL/);
    t.ok(gone, 'every rank on every host gone');
    t.comment(
      `measured: remote rank SIGKILL -> tsrun exit and all hosts clean in ${ms} ms (3 hosts, 4 ranks)`,
    );
  });

  t.test('SIGINT to tsrun stops every host', async (t) => {
    const run = startTsrun(['--hostfile', hostfile, ...sshArgs, '-x', 'SLEEP_MS=60000', report]);
    await Promise.all([0, 1, 2, 3].map((r) => run.waitFor(new RegExp(`^\\{"rank":${r},`))));
    t.ok(jobPids().length >= 4, 'ranks running in the namespaces');
    run.proc.kill('SIGINT');
    const r = await run.result;
    t.equal(r.code, 130);
    t.ok(await allGone(), 'no orphan on any host');
  });

  t.test('refused SSH: one line naming the host and ssh’s message, exit 2', async (t) => {
    const r = await runTsrun([
      '--hosts',
      `${cluster.addrs[0]}:1`,
      ...sshArgs,
      '--ssh-opt',
      'Port=2222',
      report,
    ]);
    t.equal(r.code, 2);
    t.match(
      r.stderr,
      new RegExp(`tsrun: error: cannot start ranks on host ${cluster.addrs[0]} over SSH: .*refused`),
    );
    t.ok(await allGone());
  });
}
