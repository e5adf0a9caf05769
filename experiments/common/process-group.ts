/**
 * The slice of the collectives API (DESIGN.md "Public API") the experiments use, and `init()` loaded
 * from the package by name at run time. Why not a static `import { init } from 'tsrun'`: the
 * experiments were written while the process group was being built in parallel; a static import of a
 * module that does not exist yet fails type-checking for the whole tree. Once `tsrun` exports `init`,
 * this file can become a plain re-export.
 */
import type { TypedArray } from '../../collectives/types.js';

export interface ExperimentGroup {
  readonly rank: number;
  readonly size: number;
  allGather<T extends TypedArray>(x: T): Promise<T[]>;
  allReduce<T extends TypedArray>(x: T, op?: 'sum' | 'max' | 'min'): Promise<T>;
  allGatherObject<T>(v: T): Promise<T[]>;
  broadcastObject<T>(v: T, root?: number): Promise<T>;
  barrier(): Promise<void>;
  destroy(): Promise<void>;
}

/** Joins the job's process group (rank, size and master from the environment, as `tsrun` sets them). */
export async function initGroup(timeoutMs?: number): Promise<ExperimentGroup> {
  const name = 'tsrun';
  const mod = (await import(name)) as { init(opts?: { timeoutMs?: number }): Promise<ExperimentGroup> };
  return mod.init(timeoutMs === undefined ? {} : { timeoutMs });
}
