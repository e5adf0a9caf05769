import { createHash } from 'node:crypto';
import { EnvironmentError } from './errors.js';

/** Who this process is in the job, read from the environment of whichever launcher started it. */
export interface RankEnvironment {
  rank: number;
  size: number;
  localRank: number;
  localSize: number;
  masterAddr: string;
  masterPort: number;
  secret: string;
  /** False when no TSRUN_JOB_SECRET was given and one was derived from the master address (no security). */
  authenticated: boolean;
  /** Which launcher's variables were read: 'tsrun' (torchrun's names), 'openmpi', 'mpich' or 'slurm'. */
  source: 'tsrun' | 'openmpi' | 'mpich' | 'slurm';
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, min: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) {
    throw new EnvironmentError(`${name}=${JSON.stringify(raw)} is not an integer ≥ ${min}`);
  }
  return v;
}

/** Slurm's SLURM_TASKS_PER_NODE looks like "2(x3),1": tasks on this node are not given directly. */
function slurmLocalSize(env: Env): number | undefined {
  const direct = int(env, 'SLURM_NTASKS_PER_NODE', 1);
  if (direct !== undefined) return direct;
  const first = env.SLURM_TASKS_PER_NODE?.split(',')[0];
  const m = first ? /^(\d+)/.exec(first) : null;
  if (m) return Number(m[1]);
  // srun always sets SLURM_NNODES; with tasks spread evenly this is the per-node count.
  const tasks = int(env, 'SLURM_NTASKS', 1);
  const nodes = int(env, 'SLURM_NNODES', 1);
  return tasks !== undefined && nodes !== undefined ? Math.ceil(tasks / nodes) : undefined;
}

/**
 * Reads the rank layout. torchrun's variables win; then Open MPI's, MPICH's (PMI) and Slurm's, so a
 * script runs unchanged under `tsrun`, `torchrun`-style manual env, `mpirun -np N` or `srun`.
 * MASTER_ADDR / MASTER_PORT are needed whenever the world has more than one rank; under mpirun/srun on
 * one host they default to 127.0.0.1:29500.
 */
export function readRankEnvironment(env: Env = process.env): RankEnvironment {
  let source: RankEnvironment['source'] = 'tsrun';
  let rank = int(env, 'RANK', 0);
  let size = int(env, 'WORLD_SIZE', 1);
  let localRank = int(env, 'LOCAL_RANK', 0);
  let localSize = int(env, 'LOCAL_WORLD_SIZE', 1);
  if (rank === undefined && size === undefined) {
    if (env.OMPI_COMM_WORLD_RANK !== undefined) {
      source = 'openmpi';
      rank = int(env, 'OMPI_COMM_WORLD_RANK', 0);
      size = int(env, 'OMPI_COMM_WORLD_SIZE', 1);
      localRank = int(env, 'OMPI_COMM_WORLD_LOCAL_RANK', 0);
      localSize = int(env, 'OMPI_COMM_WORLD_LOCAL_SIZE', 1);
    } else if (env.PMI_RANK !== undefined) {
      source = 'mpich';
      rank = int(env, 'PMI_RANK', 0);
      size = int(env, 'PMI_SIZE', 1);
      localRank = int(env, 'MPI_LOCALRANKID', 0);
      localSize = int(env, 'MPI_LOCALNRANKS', 1);
    } else if (env.SLURM_PROCID !== undefined) {
      source = 'slurm';
      rank = int(env, 'SLURM_PROCID', 0);
      size = int(env, 'SLURM_NTASKS', 1);
      localRank = int(env, 'SLURM_LOCALID', 0);
      localSize = slurmLocalSize(env);
    }
  }
  if (rank === undefined && size === undefined) {
    // A plain `npx tsx script.ts`: a world of one, like torch's single-process default.
    rank = 0;
    size = 1;
  }
  if (rank === undefined)
    throw new EnvironmentError(`WORLD_SIZE is set but RANK is not (set both, or run under tsrun)`);
  if (size === undefined)
    throw new EnvironmentError(`RANK is set but WORLD_SIZE is not (set both, or run under tsrun)`);
  if (size < 1) throw new EnvironmentError(`WORLD_SIZE=${size} must be ≥ 1`);
  if (rank >= size)
    throw new EnvironmentError(`RANK=${rank} is out of range for WORLD_SIZE=${size} (0..${size - 1})`);
  localRank ??= 0;
  localSize ??= 1;
  if (localRank >= localSize) {
    throw new EnvironmentError(`LOCAL_RANK=${localRank} is out of range for LOCAL_WORLD_SIZE=${localSize}`);
  }
  const allLocal = localSize === size;
  let masterAddr = env.MASTER_ADDR;
  let masterPort = int(env, 'MASTER_PORT', 1);
  if (masterPort !== undefined && masterPort > 65535) {
    throw new EnvironmentError(`MASTER_PORT=${masterPort} is not a TCP port (1..65535)`);
  }
  if (size > 1) {
    if (!masterAddr) {
      if (source === 'tsrun' || !allLocal) {
        throw new EnvironmentError(
          `MASTER_ADDR is not set (rank ${rank} of ${size}): launch with tsrun, or export MASTER_ADDR and MASTER_PORT ` +
            `to rank 0's address and a free port on every rank`,
        );
      }
      masterAddr = '127.0.0.1';
    }
    if (masterPort === undefined) {
      if (source === 'tsrun') {
        throw new EnvironmentError(
          `MASTER_PORT is not set (rank ${rank} of ${size}): export it on every rank`,
        );
      }
      masterPort = 29500;
    }
  }
  masterAddr ??= '127.0.0.1';
  masterPort ??= 0;
  const given = env.TSRUN_JOB_SECRET;
  const secret =
    given && given.length > 0
      ? given
      : createHash('sha256').update(`tsrun-unauthenticated:${masterAddr}:${masterPort}`).digest('hex');
  return {
    rank,
    size,
    localRank,
    localSize,
    masterAddr,
    masterPort,
    secret,
    authenticated: Boolean(given),
    source,
  };
}
