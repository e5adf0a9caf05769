/**
 * tsrun programs under a real Slurm (slurmctld + slurmd + munge on this host): srun and sbatch with no
 * MASTER_* variables and no secret, two jobs at once, and a rank that dies before init().
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { DERIVED_PORT_BASE, DERIVED_PORT_SPAN } from '../src/engines/job-identity.js';
import { asUser, type CompiledProject, compiledProject } from './helpers/compiled-package.js';
import { type SlurmCluster, slurmUnavailable, startSlurm } from './helpers/slurm.js';

const REPO = join(import.meta.dirname, '..');
const FIXTURES = join(REPO, 'test/fixtures/engines');
// `import 'tsrun'` inside the repository resolves to the sources under the tsrun-source condition.
const TS_CMD = [
  process.execPath,
  '--conditions=tsrun-source',
  '--import',
  'tsx',
  join(FIXTURES, 'spmd-sum.ts'),
];

interface RankLine {
  tag: string;
  rank: number;
  size: number;
  sum: number;
  source: string;
  masterAddr: string;
  masterPort: number;
}

function rankLines(out: string): RankLine[] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as RankLine)
    .sort((a, b) => a.rank - b.rank);
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function runCmd(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 240_000): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve) => {
    const p = spawn(...asUser(cmd, args), { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

const why = slurmUnavailable();
if (why) {
  t.plan(0, `skipped: Slurm tests need slurm-wlm and munge, as root: ${why}`);
} else {
  // A loaded machine (other test files at once) can make 6 Node processes start slowly.
  t.setTimeout(540_000);
  let cluster: SlurmCluster;
  let project: CompiledProject;
  t.before(async () => {
    // One after the other: a failed build must still leave `cluster` set for the teardown to stop it.
    cluster = await startSlurm();
    project = await compiledProject([join(FIXTURES, 'spmd-sum.mjs')]);
  });
  t.teardown(async () => {
    await cluster?.stop();
    project?.remove();
  });
  // The same program compiled, under plain node: starts faster than under tsx.
  const mjsCmd = () => [process.execPath, project.script('spmd-sum.mjs')];

  const expectJob = (t: Test, r: Run, tag: string, scale: number, what: string) => {
    t.equal(r.code, 0, `${what} exits 0`);
    if (r.code !== 0) t.comment(`${what}: stderr:\n${r.stderr}\n${cluster.logs()}`);
    const lines = rankLines(r.stdout).filter((l) => l.tag === tag);
    t.same(
      lines.map((l) => [l.rank, l.size, l.sum]),
      [0, 1, 2].map((rank) => [rank, 3, 6 * scale]),
      `${what}: every rank summed its own job's three ranks`,
    );
    t.ok(
      lines.every((l) => l.source === 'slurm' && l.masterAddr === cluster.node),
      `${what}: rendezvous taken from Slurm (first host ${cluster.node})`,
    );
    const ports = new Set(lines.map((l) => l.masterPort));
    t.equal(ports.size, 1, `${what}: one port for the job`);
    const [port] = ports;
    t.ok(port >= DERIVED_PORT_BASE && port < DERIVED_PORT_BASE + DERIVED_PORT_SPAN, `port ${port} in range`);
    return port;
  };

  t.test('srun -n 3 of a TypeScript program with no MASTER_* variables and no secret', async (t) => {
    const env = { ...cluster.env, ENGINE_TAG: 'srun', ENGINE_SCALE: '1' };
    const r = await runCmd('srun', ['-n', '3', '-K', ...TS_CMD], env);
    expectJob(t, r, 'srun', 1, 'srun -n 3');
    t.match(r.stderr, /TSRUN_JOB_SECRET is not set; the job's keys are derived from its job id/);
  });

  t.test('an sbatch job: exports pass through, output read back from its file', async (t) => {
    const out = join(cluster.dir, 'out', 'sbatch-%j.out');
    const batch = join(cluster.dir, 'job.sh');
    writeFileSync(
      batch,
      `#!/bin/sh\nsrun -K ${mjsCmd()
        .map((a) => `'${a}'`)
        .join(' ')}\n`,
      { mode: 0o755 },
    );
    const env = {
      ...cluster.env,
      ENGINE_TAG: 'sbatch',
      ENGINE_SCALE: '10',
      TSRUN_JOB_SECRET: 'ab'.repeat(32),
    };
    const r = await runCmd(
      'sbatch',
      ['--wait', '--parsable', '-n', '3', `--chdir=${REPO}`, '-o', out, batch],
      env,
    );
    t.equal(r.code, 0, 'sbatch --wait exits 0');
    if (r.code !== 0) t.comment(`sbatch stderr:\n${r.stderr}\n${cluster.logs()}`);
    const jobId = r.stdout.trim().split(';')[0];
    t.match(jobId, /^\d+$/, 'sbatch printed the job id');
    const text = readFileSync(out.replace('%j', jobId), 'utf8');
    expectJob(t, { ...r, stdout: text }, 'sbatch', 10, 'sbatch job');
    t.notMatch(text, /TSRUN_JOB_SECRET is not set/, 'the exported secret reached the ranks');
  });

  t.test('two jobs at once on the same host each finish with their own result', async (t) => {
    const [a, b] = await Promise.all([
      runCmd('srun', ['-n', '3', '-K', ...mjsCmd()], {
        ...cluster.env,
        ENGINE_TAG: 'a',
        ENGINE_SCALE: '100',
      }),
      runCmd('srun', ['-n', '3', '-K', ...mjsCmd()], {
        ...cluster.env,
        ENGINE_TAG: 'b',
        ENGINE_SCALE: '1000',
      }),
    ]);
    const pa = expectJob(t, a, 'a', 100, 'job a');
    const pb = expectJob(t, b, 'b', 1000, 'job b');
    t.not(pa, pb, 'the two jobs rendezvoused on different ports');
  });

  t.test('a rank that dies before init() ends the step non-zero, promptly, under srun -K', async (t) => {
    const env = {
      ...cluster.env,
      ENGINE_TAG: 'fail',
      ENGINE_FAIL_RANK: '1',
      // Only Slurm's -K can end the step this soon: the survivors would wait 10 minutes at the rendezvous.
      TSRUN_RENDEZVOUS_TIMEOUT_MS: '600000',
    };
    const r = await runCmd('srun', ['-n', '3', '-K', ...mjsCmd()], env);
    t.not(r.code, 0, `the step failed (exit ${r.code}, signal ${r.signal})`);
    t.equal(r.signal, null, 'srun itself was not killed by the test timeout');
    t.match(r.stderr, /rank 1: failing on purpose before init\(\)/);
    t.ok(r.ms < 100_000, `the step ended in ${r.ms} ms, long before the 600 s rendezvous timeout`);
    t.equal(rankLines(r.stdout).length, 0, 'no rank reported a result');
  });
}
