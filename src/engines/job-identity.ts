import { createHash } from 'node:crypto';

/**
 * What tells one job from another when no TSRUN_JOB_SECRET separates them. Two jobs must never derive the
 * same keys, or a rank of one authenticates into the other's rendezvous; addr:port alone is not enough
 * (two jobs on one host pick the same default port). Each engine names its job: Slurm by cluster, job
 * and step id, Open MPI by its PMIx namespace / job id, an Indexed Job by its uid via TSRUN_RDZV_ID.
 */
export type Env = Record<string, string | undefined>;

/** Ports derived from a job's id lie in [DERIVED_PORT_BASE, DERIVED_PORT_BASE + DERIVED_PORT_SPAN). */
export const DERIVED_PORT_BASE = 20000;
export const DERIVED_PORT_SPAN = 10000;

/** Slurm's job id and step id (`SLURM_JOB_ID`, `SLURM_STEP_ID`; older Slurm spells them without `_`). */
export function slurmIds(env: Env): { jobId?: string; stepId?: string } {
  return {
    jobId: env.SLURM_JOB_ID || env.SLURM_JOBID || undefined,
    stepId: env.SLURM_STEP_ID || env.SLURM_STEPID || undefined,
  };
}

/** The job's identity under srun, or undefined outside a Slurm step. */
export function slurmJobIdentity(env: Env): string | undefined {
  const { jobId, stepId } = slurmIds(env);
  if (!jobId) return undefined;
  // Job ids are unique within a cluster; the cluster name tells federated clusters' jobs apart.
  return `slurm:${env.SLURM_CLUSTER_NAME ?? ''}:${jobId}.${stepId ?? ''}`;
}

/**
 * The rendezvous port of a Slurm step: 20000 + (97·job id + step id) mod 10000. Consecutive jobs land 97
 * apart and the steps of one job 1 apart, so jobs that run at the same time rarely meet on one port
 * (and if they do, their keys still differ and the second rank 0 reports the port as in use).
 */
export function slurmDerivedPort(jobId: string, stepId: string | undefined): number {
  const job = BigInt(/^\d+$/.test(jobId) ? jobId : hashNumber(jobId));
  const step = BigInt(stepId && /^\d+$/.test(stepId) ? stepId : 0);
  return DERIVED_PORT_BASE + Number((97n * job + step) % BigInt(DERIVED_PORT_SPAN));
}

/**
 * The job's identity under an MPI launcher: Open MPI's PMIx namespace and job id (the same on every rank
 * of one mpirun, different for every mpirun), MPICH hydra's KVS name. Undefined when none is set.
 */
export function mpiJobIdentity(env: Env): string | undefined {
  const parts = [
    env.PMIX_NAMESPACE,
    env.OMPI_MCA_ess_base_jobid,
    env.OMPI_MCA_orte_ess_jobid,
    env.PMI_KVSNAME,
  ].filter((v): v is string => Boolean(v));
  return parts.length > 0 ? `mpi:${parts.join(':')}` : undefined;
}

function hashNumber(text: string): string {
  return BigInt(`0x${createHash('sha256').update(text).digest('hex').slice(0, 12)}`).toString();
}

/** A port in the documented range, a deterministic function of a job identity. */
export function hashedPort(identity: string): number {
  return DERIVED_PORT_BASE + Number(BigInt(hashNumber(identity)) % BigInt(DERIVED_PORT_SPAN));
}

/**
 * The job secret every rank computes alike. A given TSRUN_JOB_SECRET is combined with the job's identity
 * (a shell that exports one secret to every sbatch must still give each job its own keys); without one,
 * the secret is derived from the identity and the master address — distinct per job, but guessable by
 * anyone who can read the job's id, hence "unauthenticated".
 */
export function jobSecret(
  given: string | undefined,
  identity: string | undefined,
  masterAddr: string,
  masterPort: number,
): string {
  if (given && !identity) return given;
  const text = given
    ? `tsrun-job:${identity}:${given}`
    : `tsrun-unauthenticated:${masterAddr}:${masterPort}${identity ? `:${identity}` : ''}`;
  return createHash('sha256').update(text).digest('hex');
}
