import t from 'tap';
import { readRankEnvironment } from '../src/env.js';
import { EnvironmentError } from '../src/errors.js';

const tsrunEnv = {
  RANK: '1',
  WORLD_SIZE: '3',
  LOCAL_RANK: '1',
  LOCAL_WORLD_SIZE: '3',
  MASTER_ADDR: '10.0.0.1',
  MASTER_PORT: '29500',
  TSRUN_JOB_SECRET: 'ab'.repeat(32),
};

t.test('torchrun variables', async (t) => {
  const e = readRankEnvironment(tsrunEnv);
  t.match(e, {
    rank: 1,
    size: 3,
    localRank: 1,
    localSize: 3,
    masterAddr: '10.0.0.1',
    masterPort: 29500,
    source: 'tsrun',
  });
  t.equal(e.authenticated, true);
  t.equal(e.secret, 'ab'.repeat(32));
});

t.test('no variables: a world of one', async (t) => {
  t.match(readRankEnvironment({}), { rank: 0, size: 1, localRank: 0, localSize: 1 });
});

t.test('Open MPI, MPICH and Slurm variables', async (t) => {
  t.match(
    readRankEnvironment({
      OMPI_COMM_WORLD_RANK: '2',
      OMPI_COMM_WORLD_SIZE: '4',
      OMPI_COMM_WORLD_LOCAL_RANK: '0',
      OMPI_COMM_WORLD_LOCAL_SIZE: '2',
      MASTER_ADDR: 'h0',
      MASTER_PORT: '1234',
    }),
    { rank: 2, size: 4, localRank: 0, localSize: 2, source: 'openmpi', masterAddr: 'h0', masterPort: 1234 },
  );
  t.match(readRankEnvironment({ PMI_RANK: '1', PMI_SIZE: '2', MPI_LOCALRANKID: '1', MPI_LOCALNRANKS: '2' }), {
    rank: 1,
    size: 2,
    source: 'mpich',
    masterAddr: '127.0.0.1',
    masterPort: 29500,
  });
  t.match(
    readRankEnvironment({
      SLURM_PROCID: '3',
      SLURM_NTASKS: '4',
      SLURM_LOCALID: '1',
      SLURM_TASKS_PER_NODE: '2(x2)',
      MASTER_ADDR: 'n1',
      MASTER_PORT: '4000',
    }),
    { rank: 3, size: 4, localRank: 1, localSize: 2, source: 'slurm' },
  );
  t.match(
    readRankEnvironment({ SLURM_PROCID: '1', SLURM_NTASKS: '2', SLURM_LOCALID: '1', SLURM_NNODES: '1' }),
    { rank: 1, size: 2, localRank: 1, localSize: 2, source: 'slurm' },
    'srun without SLURM_TASKS_PER_NODE: tasks per node from SLURM_NNODES',
  );
});

t.test('without TSRUN_JOB_SECRET every rank derives the same (unauthenticated) secret', async (t) => {
  const { TSRUN_JOB_SECRET: _, ...noSecret } = tsrunEnv;
  const a = readRankEnvironment(noSecret);
  const b = readRankEnvironment({ ...noSecret, RANK: '2', LOCAL_RANK: '2' });
  t.equal(a.secret, b.secret);
  t.equal(a.authenticated, false);
});

t.test('missing or inconsistent variables fail with a message naming them', async (t) => {
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ RANK: '0' }, /WORLD_SIZE/],
    [{ WORLD_SIZE: '2' }, /RANK/],
    [{ ...tsrunEnv, RANK: '3' }, /RANK=3 is out of range for WORLD_SIZE=3/],
    [{ ...tsrunEnv, RANK: 'x' }, /RANK="x" is not an integer/],
    [{ ...tsrunEnv, MASTER_ADDR: '' }, /MASTER_ADDR is not set/],
    [{ ...tsrunEnv, MASTER_PORT: '70000' }, /MASTER_PORT=70000/],
    [{ ...tsrunEnv, LOCAL_RANK: '5' }, /LOCAL_RANK=5 is out of range/],
    [{ ...tsrunEnv, WORLD_SIZE: '0', RANK: '0' }, /WORLD_SIZE="?0"? (is not an integer ≥ 1|must be ≥ 1)/],
  ];
  for (const [env, re] of bad)
    t.throws(() => readRankEnvironment(env), { name: 'EnvironmentError', message: re });
  t.ok(new EnvironmentError('x') instanceof Error);
});
