import { EnvironmentError } from '../errors.js';
import type { Env } from './job-identity.js';

/**
 * A pod of a Kubernetes Indexed Job (or of a JobSet's replicated job) is one rank: Kubernetes sets
 * JOB_COMPLETION_INDEX, and the manifest sets WORLD_SIZE (the Job's completions) and MASTER_ADDR (pod 0's
 * name under the headless Service, `<job>-0.<service>`), as the PyTorchJob operator and JobSet arrange it.
 * See docs/kubernetes-indexed-job.yaml.
 */
export interface IndexedJobRank {
  rank: number;
  size: number;
}

/** Undefined when JOB_COMPLETION_INDEX is not set (not an Indexed Job pod). */
export function readIndexedJob(env: Env): IndexedJobRank | undefined {
  const rawIndex = env.JOB_COMPLETION_INDEX;
  if (rawIndex === undefined || rawIndex === '') return undefined;
  if (!/^\d+$/.test(rawIndex)) {
    throw new EnvironmentError(`JOB_COMPLETION_INDEX=${JSON.stringify(rawIndex)} is not an integer ≥ 0`);
  }
  const rawSize = env.WORLD_SIZE;
  if (rawSize === undefined || rawSize === '') {
    throw new EnvironmentError(
      `JOB_COMPLETION_INDEX=${rawIndex} is set (a Kubernetes Indexed Job) but WORLD_SIZE is not: set WORLD_SIZE ` +
        `to the Job's completions in the pod template (see docs/kubernetes-indexed-job.yaml)`,
    );
  }
  if (!/^\d+$/.test(rawSize) || Number(rawSize) < 1) {
    throw new EnvironmentError(`WORLD_SIZE=${JSON.stringify(rawSize)} is not an integer ≥ 1`);
  }
  const rank = Number(rawIndex);
  const size = Number(rawSize);
  if (rank >= size) {
    throw new EnvironmentError(
      `JOB_COMPLETION_INDEX=${rank} is out of range for WORLD_SIZE=${size} (0..${size - 1}); WORLD_SIZE must ` +
        `equal the Job's completions`,
    );
  }
  return { rank, size };
}
