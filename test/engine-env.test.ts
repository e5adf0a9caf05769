import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseCli } from '../launcher/cli-options.js';
import { autoProcsPerNode } from '../launcher/cpu-count.js';
import { jobSecretFor } from '../launcher/local-mode.js';
import {
  DERIVED_PORT_BASE,
  DERIVED_PORT_SPAN,
  hashedPort,
  jobSecret,
  slurmDerivedPort,
} from '../src/engines/job-identity.js';
import { readIndexedJob } from '../src/engines/kubernetes.js';
import { resolveHostAddress } from '../src/engines/resolve-host.js';
import { readRankEnvironment } from '../src/env.js';
import { EnvironmentError } from '../src/errors.js';

const inRange = (p: number) => p >= DERIVED_PORT_BASE && p < DERIVED_PORT_BASE + DERIVED_PORT_SPAN;

/** What srun puts in a task's environment (the parts tsrun reads). */
function srunEnv(jobId: string, stepId: string, rank: number, extra: Record<string, string> = {}) {
  return {
    SLURM_PROCID: String(rank),
    SLURM_NTASKS: '4',
    SLURM_LOCALID: String(rank % 2),
    SLURM_TASKS_PER_NODE: '2(x2)',
    SLURM_NNODES: '2',
    SLURM_JOB_ID: jobId,
    SLURM_STEP_ID: stepId,
    SLURM_CLUSTER_NAME: 'c1',
    SLURM_STEP_NODELIST: 'node[07-08]',
    SLURM_JOB_NODELIST: 'node[07-09]',
    ...extra,
  };
}

t.test('srun without MASTER_*: first host of the step, port from job and step id', async (t) => {
  const e = readRankEnvironment(srunEnv('4242', '0', 3));
  t.match(e, { rank: 3, size: 4, source: 'slurm', masterAddr: 'node07', authenticated: false });
  t.equal(e.masterPort, DERIVED_PORT_BASE + ((97 * 4242) % DERIVED_PORT_SPAN));
  t.match(e.masterAddrFrom, /first host of SLURM_STEP_NODELIST=node\[07-08\]/);
  const { SLURM_STEP_NODELIST: _, ...batchOnly } = srunEnv('4242', '0', 1);
  t.equal(readRankEnvironment(batchOnly).masterAddr, 'node07', 'falls back to SLURM_JOB_NODELIST');
  t.equal(
    readRankEnvironment({ ...batchOnly, SLURM_JOB_NODELIST: '', SLURM_NODELIST: 'x[3-4]' }).masterAddr,
    'x3',
    'then SLURM_NODELIST',
  );
  const ranks = [0, 1, 2, 3].map((r) => readRankEnvironment(srunEnv('4242', '0', r)));
  t.equal(
    new Set(ranks.map((r) => `${r.masterAddr}:${r.masterPort}:${r.secret}`)).size,
    1,
    'all ranks agree',
  );
});

t.test('MASTER_ADDR / MASTER_PORT still win under srun', async (t) => {
  const e = readRankEnvironment(srunEnv('4242', '0', 1, { MASTER_ADDR: '10.1.1.1', MASTER_PORT: '1234' }));
  t.match(e, { masterAddr: '10.1.1.1', masterPort: 1234 });
  t.equal(e.masterAddrFrom, undefined);
  const portOnly = readRankEnvironment(srunEnv('4242', '0', 1, { MASTER_PORT: '1234' }));
  t.match(portOnly, { masterAddr: 'node07', masterPort: 1234 });
});

t.test('srun: a bad node list is an EnvironmentError naming the variable', async (t) => {
  t.throws(() => readRankEnvironment(srunEnv('1', '0', 0, { SLURM_STEP_NODELIST: 'node[1-' })), {
    name: 'NodelistSyntaxError',
    message: /SLURM_STEP_NODELIST="node\[1-" is not a Slurm node list/,
  });
});

t.test('derived Slurm ports: in range, deterministic, apart for nearby jobs and steps', async (t) => {
  t.equal(slurmDerivedPort('4242', '0'), slurmDerivedPort('4242', '0'));
  const ports = new Set<number>();
  for (let job = 1000; job < 1050; job++)
    for (let step = 0; step < 5; step++) {
      const p = slurmDerivedPort(String(job), String(step));
      t.ok(inRange(p), `${job}.${step} -> ${p}`);
      ports.add(p);
    }
  t.equal(ports.size, 250, '50 consecutive jobs × 5 steps: 250 different ports');
  // The batch step's id (4294967294) and huge job ids stay exact (no float rounding).
  t.ok(inRange(slurmDerivedPort('4294967295', '4294967294')));
  t.equal(
    slurmDerivedPort('4294967295', '4294967294'),
    DERIVED_PORT_BASE + Number((97n * 4294967295n + 4294967294n) % 10000n),
  );
  t.ok(inRange(slurmDerivedPort('123_4', undefined)), 'a heterogeneous job id is hashed');
  t.ok(inRange(hashedPort('mpi:prterun-host-1234@1')));
  t.equal(hashedPort('mpi:x'), hashedPort('mpi:x'));
});

t.test('two jobs never share keys, with or without TSRUN_JOB_SECRET', async (t) => {
  // Same host, same default port forced: only the job id differs.
  const pin = { MASTER_ADDR: '127.0.0.1', MASTER_PORT: '29500' };
  const a = readRankEnvironment(srunEnv('100', '0', 1, pin));
  const b = readRankEnvironment(srunEnv('101', '0', 1, pin));
  t.not(a.secret, b.secret, 'srun, no secret');
  t.not(
    readRankEnvironment(srunEnv('100', '0', 1, pin)).secret,
    readRankEnvironment(srunEnv('100', '1', 1, pin)).secret,
    'two steps of one job',
  );
  t.not(
    readRankEnvironment(srunEnv('100', '0', 1, { ...pin, SLURM_CLUSTER_NAME: 'c2' })).secret,
    a.secret,
    'same job id on another cluster',
  );
  const shared = { ...pin, TSRUN_JOB_SECRET: 'cd'.repeat(32) };
  const sa = readRankEnvironment(srunEnv('100', '0', 1, shared));
  const sb = readRankEnvironment(srunEnv('101', '0', 1, shared));
  t.not(sa.secret, sb.secret, 'srun, one secret exported to both jobs');
  t.equal(sa.authenticated, true);

  const mpi = (ns: string, rank: number, extra: Record<string, string> = {}) => ({
    OMPI_COMM_WORLD_RANK: String(rank),
    OMPI_COMM_WORLD_SIZE: '3',
    OMPI_COMM_WORLD_LOCAL_RANK: String(rank),
    OMPI_COMM_WORLD_LOCAL_SIZE: '3',
    PMIX_NAMESPACE: ns,
    OMPI_MCA_ess_base_jobid: ns === 'a' ? '1111' : '2222',
    ...extra,
  });
  const ma = readRankEnvironment(mpi('a', 0));
  const mb = readRankEnvironment(mpi('b', 0));
  t.not(ma.secret, mb.secret, 'mpirun, no secret');
  t.not(ma.masterPort, mb.masterPort, 'mpirun without MASTER_PORT: a port per job');
  t.ok(inRange(ma.masterPort));
  t.equal(ma.masterAddr, '127.0.0.1');
  t.same(
    [1, 2].map((r) => readRankEnvironment(mpi('a', r))).map((e) => [e.secret, e.masterPort]),
    [
      [ma.secret, ma.masterPort],
      [ma.secret, ma.masterPort],
    ],
    'every rank of one mpirun agrees',
  );
  t.not(
    readRankEnvironment(mpi('a', 0, pin)).secret,
    readRankEnvironment(mpi('b', 0, pin)).secret,
    'same port',
  );
  t.equal(readRankEnvironment(mpi('a', 0, { MASTER_PORT: '4000' })).masterPort, 4000);

  const torch = { RANK: '1', WORLD_SIZE: '2', ...pin };
  t.not(
    readRankEnvironment({ ...torch, TSRUN_RDZV_ID: 'run-1' }).secret,
    readRankEnvironment({ ...torch, TSRUN_RDZV_ID: 'run-2' }).secret,
    'manual torchrun variables: TSRUN_RDZV_ID separates jobs',
  );
  t.equal(
    readRankEnvironment({ ...torch, TSRUN_RDZV_ID: 'run-1', TSRUN_JOB_SECRET: 'ef'.repeat(32) }).secret,
    'ef'.repeat(32),
    "under tsrun's launcher the secret it hands out is used as is",
  );
});

t.test('jobSecret: a given secret alone is used as is; anything derived is 64 hex chars', async (t) => {
  t.equal(jobSecret('s3cret', undefined, 'h', 1), 's3cret');
  t.match(jobSecret('s3cret', 'slurm::1.0', 'h', 1), /^[0-9a-f]{64}$/);
  t.match(jobSecret(undefined, undefined, 'h', 1), /^[0-9a-f]{64}$/);
  t.not(jobSecret(undefined, 'a', 'h', 1), jobSecret(undefined, 'b', 'h', 1));
  t.not(jobSecret('s', 'a', 'h', 1), jobSecret(undefined, 'a', 'h', 1));
});

t.test('Kubernetes Indexed Job: JOB_COMPLETION_INDEX is the rank', async (t) => {
  const pod = (index: number, extra: Record<string, string> = {}) => ({
    JOB_COMPLETION_INDEX: String(index),
    WORLD_SIZE: '3',
    MASTER_ADDR: 'tsrun-hello-0.tsrun-hello',
    TSRUN_RDZV_ID: '5f1c-uid',
    HOSTNAME: `tsrun-hello-${index}`,
    ...extra,
  });
  const e = readRankEnvironment(pod(2));
  t.match(e, {
    rank: 2,
    size: 3,
    localRank: 0,
    localSize: 1,
    source: 'kubernetes',
    masterAddr: 'tsrun-hello-0.tsrun-hello',
    masterPort: 29500,
    jobIdentity: 'rdzv:5f1c-uid',
  });
  t.equal(readRankEnvironment(pod(0)).secret, e.secret, 'every pod derives the same secret');
  t.not(readRankEnvironment(pod(0, { TSRUN_RDZV_ID: 'other' })).secret, e.secret, 'another Job, other keys');
  t.equal(readRankEnvironment(pod(1, { MASTER_PORT: '23456' })).masterPort, 23456);
  t.equal(readRankEnvironment(pod(1, { TSRUN_JOB_SECRET: 'x' })).authenticated, true);
  t.match(
    readRankEnvironment(pod(0, { RANK: '1', WORLD_SIZE: '2', MASTER_PORT: '1' })),
    { rank: 1, source: 'tsrun' },
    'RANK wins',
  );
  t.same(readIndexedJob({}), undefined);
  t.same(readIndexedJob({ JOB_COMPLETION_INDEX: '0', WORLD_SIZE: '1' }), { rank: 0, size: 1 });

  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ JOB_COMPLETION_INDEX: '1' }, /JOB_COMPLETION_INDEX=1 is set .* but WORLD_SIZE is not/],
    [{ JOB_COMPLETION_INDEX: 'x', WORLD_SIZE: '2' }, /JOB_COMPLETION_INDEX="x" is not an integer/],
    [
      { JOB_COMPLETION_INDEX: '3', WORLD_SIZE: '3' },
      /JOB_COMPLETION_INDEX=3 is out of range for WORLD_SIZE=3/,
    ],
    [{ JOB_COMPLETION_INDEX: '0', WORLD_SIZE: '0' }, /WORLD_SIZE="0" is not an integer ≥ 1/],
    [
      { JOB_COMPLETION_INDEX: '1', WORLD_SIZE: '2' },
      /MASTER_ADDR is not set \(pod 1 of 2 .*<job>-0\.<service>/,
    ],
  ];
  for (const [env, re] of bad)
    t.throws(() => readRankEnvironment(env), { name: 'EnvironmentError', message: re });
});

t.test(
  'resolving the first host: names resolve, IPs pass, unknown names are EnvironmentErrors',
  async (t) => {
    t.equal(await resolveHostAddress('10.2.3.4', 'x'), '10.2.3.4');
    t.match(await resolveHostAddress('localhost', 'x'), /^127\.|^::1$/);
    await t.rejects(resolveHostAddress('no-such-host.invalid', 'the first host of SLURM_STEP_NODELIST=n1'), {
      message: /cannot resolve "no-such-host.invalid" \(the first host of SLURM_STEP_NODELIST=n1\)/,
    });
    t.type(await resolveHostAddress('no-such-host.invalid', 'x').catch((e) => e), EnvironmentError);
  },
);

t.test('per-node launcher: --rdzv-id (or TSRUN_RDZV_ID) and the shape separate jobs', async (t) => {
  const saved = { secret: process.env.TSRUN_JOB_SECRET, rdzv: process.env.TSRUN_RDZV_ID };
  delete process.env.TSRUN_JOB_SECRET;
  delete process.env.TSRUN_RDZV_ID;
  t.teardown(() => {
    if (saved.secret !== undefined) process.env.TSRUN_JOB_SECRET = saved.secret;
    if (saved.rdzv !== undefined) process.env.TSRUN_RDZV_ID = saved.rdzv;
  });
  const node = (rank: number, extra: string[] = []) =>
    parseCli([
      '--nnodes',
      '2',
      '--node-rank',
      String(rank),
      '--master-addr',
      '10.0.0.1',
      '--master-port',
      '29500',
      ...extra,
      'x.ts',
    ])!;
  const secret = (o: ReturnType<typeof node>) => jobSecretFor(o, '10.0.0.1', 29500);
  t.equal(node(0, ['--rdzv-id', 'run-1']).rdzvId, 'run-1');
  t.equal(node(0, ['--rdzv_id', 'run-1']).rdzvId, 'run-1', "torchrun's spelling");
  t.equal(secret(node(0, ['--rdzv-id', 'run-1'])), secret(node(1, ['--rdzv-id', 'run-1'])), 'nodes agree');
  t.not(secret(node(0, ['--rdzv-id', 'run-1'])), secret(node(0, ['--rdzv-id', 'run-2'])), 'jobs differ');
  t.not(secret(node(0)), secret(node(0, ['--nproc-per-node', '2'])), 'another shape, other keys');
  process.env.TSRUN_RDZV_ID = 'from-env';
  t.equal(node(0).rdzvId, 'from-env', 'TSRUN_RDZV_ID is the flag’s default');
  t.equal(secret(node(0)), secret(node(1, ['--rdzv-id', 'from-env'])));
  delete process.env.TSRUN_RDZV_ID;
  process.env.TSRUN_JOB_SECRET = 'ef'.repeat(32);
  t.equal(secret(node(0)), 'ef'.repeat(32), 'a given secret alone is used as is');
  t.not(secret(node(0, ['--rdzv-id', 'a'])), secret(node(0, ['--rdzv-id', 'b'])), 'with --rdzv-id folded in');
  t.equal(parseCli(['--nproc-per-node', 'auto', 'x.ts'])!.nprocPerNode, autoProcsPerNode());
});

t.test('docs/kubernetes-indexed-job.yaml gives every pod a consistent rank environment', async (t) => {
  const yaml = readFileSync(join(import.meta.dirname, '..', 'docs/kubernetes-indexed-job.yaml'), 'utf8');
  const field = (re: RegExp) => re.exec(yaml)?.[1];
  const jobName = field(/kind: Job\nmetadata:\n {2}name: (\S+)/);
  const completions = Number(field(/completions: (\d+)/));
  const subdomain = field(/subdomain: (\S+)/);
  t.ok(jobName && subdomain && completions > 1, 'the manifest names the Job, its Service and completions');
  t.match(
    yaml,
    new RegExp(`kind: Service\\nmetadata:\\n {2}name: ${subdomain}\\n`),
    'the subdomain is the Service',
  );
  t.match(yaml, /completionMode: Indexed/);
  const values: Record<string, string> = {};
  for (const m of yaml.matchAll(/- name: (\w+)\n\s+value: "?([^"\n#]+?)"?\s*(?:#.*)?\n/g))
    values[m[1]] = m[2];
  t.equal(values.WORLD_SIZE, String(completions), 'WORLD_SIZE = completions');
  t.equal(values.MASTER_ADDR, `${jobName}-0.${subdomain}`, "MASTER_ADDR = pod 0's name under the Service");
  t.match(
    yaml,
    /name: TSRUN_RDZV_ID\n\s+valueFrom:\n\s+fieldRef:\n\s+fieldPath: metadata\.labels\['batch\.kubernetes\.io\/controller-uid'\]/,
  );
  // What Kubernetes then gives each pod: the index, its hostname, the Job's uid from the label.
  const pods = Array.from({ length: completions }, (_, i) =>
    readRankEnvironment({
      ...values,
      JOB_COMPLETION_INDEX: String(i),
      HOSTNAME: `${jobName}-${i}`,
      TSRUN_RDZV_ID: '0c7d3b2e-uid',
    }),
  );
  t.same(
    pods.map((p) => [p.rank, p.size, p.source]),
    pods.map((_, i) => [i, completions, 'kubernetes']),
  );
  t.equal(new Set(pods.map((p) => `${p.masterAddr}:${p.masterPort}:${p.secret}`)).size, 1, 'all pods agree');
});
