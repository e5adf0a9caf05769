import {
  hashedPort,
  jobSecret,
  mpiJobIdentity,
  slurmDerivedPort,
  slurmIds,
  slurmJobIdentity,
} from './engines/job-identity.js';
import { readIndexedJob } from './engines/kubernetes.js';
import { firstNode } from './engines/slurm-nodelist.js';
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
  /** False when no TSRUN_JOB_SECRET was given and one was derived from the job's id or master (no security). */
  authenticated: boolean;
  /** Which launcher's variables were read: 'tsrun' (torchrun's names), 'openmpi', 'mpich', 'slurm', 'kubernetes'. */
  source: 'tsrun' | 'openmpi' | 'mpich' | 'slurm' | 'kubernetes';
  /**
   * Set when masterAddr is a host name taken from the engine (Slurm's node list) rather than MASTER_ADDR:
   * where it came from, for the error if it does not resolve. init() resolves it to an address.
   */
  masterAddrFrom?: string;
  /** What tells this job from another one on the same hosts (Slurm job/step id, mpirun's job id, TSRUN_RDZV_ID). */
  jobIdentity?: string;
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

/** The step's node list: SLURM_STEP_NODELIST, else the job's (sbatch's batch step has no step list). */
function slurmNodelist(env: Env): { name: string; value: string } | undefined {
  for (const name of ['SLURM_STEP_NODELIST', 'SLURM_JOB_NODELIST', 'SLURM_NODELIST']) {
    const value = env[name];
    if (value) return { name, value };
  }
  return undefined;
}

/** The job's identity for the secret and port derivation, or undefined when nothing names the job. */
function jobIdentityOf(source: RankEnvironment['source'], env: Env): string | undefined {
  const engine =
    source === 'slurm'
      ? slurmJobIdentity(env)
      : source === 'openmpi' || source === 'mpich'
        ? mpiJobIdentity(env)
        : undefined;
  // tsrun's own launcher already folded --rdzv-id into the TSRUN_JOB_SECRET it hands its ranks.
  const rdzv =
    env.TSRUN_RDZV_ID && !(source === 'tsrun' && env.TSRUN_JOB_SECRET) ? `rdzv:${env.TSRUN_RDZV_ID}` : '';
  const parts = [engine, rdzv].filter(Boolean);
  return parts.length > 0 ? parts.join('|') : undefined;
}

/**
 * Reads the rank layout. torchrun's variables win; then a Kubernetes Indexed Job's, Open MPI's, MPICH's
 * (PMI) and Slurm's, so a script runs unchanged under `tsrun`, `torchrun`-style manual env, a pod of an
 * Indexed Job, `mpirun -np N` or `srun`. MASTER_ADDR / MASTER_PORT win whenever set. Otherwise under srun
 * the address is the first host of the step's node list and the port derived from the job and step id;
 * under mpirun on one host the address is 127.0.0.1 and the port derived from mpirun's job id.
 */
export function readRankEnvironment(env: Env = process.env): RankEnvironment {
  let source: RankEnvironment['source'] = 'tsrun';
  let rank = int(env, 'RANK', 0);
  let size = int(env, 'WORLD_SIZE', 1);
  let localRank = int(env, 'LOCAL_RANK', 0);
  let localSize = int(env, 'LOCAL_WORLD_SIZE', 1);
  const indexed = rank === undefined ? readIndexedJob(env) : undefined;
  if (indexed) {
    source = 'kubernetes';
    ({ rank, size } = indexed);
    localRank = 0;
    localSize = 1;
  } else if (rank === undefined && size === undefined) {
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
  let masterAddr = env.MASTER_ADDR || undefined;
  let masterAddrFrom: string | undefined;
  let masterPort = int(env, 'MASTER_PORT', 1);
  if (masterPort !== undefined && masterPort > 65535) {
    throw new EnvironmentError(`MASTER_PORT=${masterPort} is not a TCP port (1..65535)`);
  }
  const jobIdentity = jobIdentityOf(source, env);
  if (size > 1) {
    const list = source === 'slurm' && !masterAddr ? slurmNodelist(env) : undefined;
    if (list) {
      masterAddr = firstNode(list.value, list.name);
      masterAddrFrom = `the first host of ${list.name}=${list.value}`;
    }
    if (!masterAddr) {
      if (source === 'kubernetes') {
        throw new EnvironmentError(
          `MASTER_ADDR is not set (pod ${rank} of ${size} of an Indexed Job): set it to pod 0's name under the ` +
            `headless Service, <job>-0.<service> (see docs/kubernetes-indexed-job.yaml)`,
        );
      }
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
      const { jobId, stepId } = slurmIds(env);
      masterPort =
        source === 'slurm' && jobId
          ? slurmDerivedPort(jobId, stepId)
          : (source === 'openmpi' || source === 'mpich') && jobIdentity
            ? hashedPort(jobIdentity)
            : 29500;
    }
  }
  masterAddr ??= '127.0.0.1';
  masterPort ??= 0;
  const given = env.TSRUN_JOB_SECRET || undefined;
  const secret = jobSecret(given, jobIdentity, masterAddr, masterPort);
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
    ...(masterAddrFrom && { masterAddrFrom }),
    ...(jobIdentity && { jobIdentity }),
  };
}
