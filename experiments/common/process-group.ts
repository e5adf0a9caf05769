/**
 * The process group of an SPMD experiment: `init()` from the package (rank, size and master from the
 * environment, as `tsrun`, torchrun, mpirun or srun set them). One place, so every experiment joins the
 * group the same way and a timeout override applies to all of them.
 */
import { init, type ProcessGroup } from 'tsrun';

export type ExperimentGroup = ProcessGroup;

/** Joins the job's process group; `timeoutMs` overrides the default timeout of every collective. */
export async function initGroup(timeoutMs?: number): Promise<ExperimentGroup> {
  return init(timeoutMs === undefined ? {} : { timeoutMs });
}
