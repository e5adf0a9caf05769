/**
 * The collectives global PageRank needs, as the process group (docs/ARCHITECTURE.md "Public API") provides them.
 * The SPMD driver passes the group itself; the typing lives here because the shared ExperimentGroup
 * slice of experiments/common does not list allToAll and reduceScatter.
 */
import type { TypedArray } from '../../src/wire/vocabulary.js';

export interface PagerankComm {
  readonly rank: number;
  readonly size: number;
  allGather<T extends TypedArray>(x: T): Promise<T[]>;
  allReduce<T extends TypedArray>(x: T, op?: 'sum' | 'max' | 'min'): Promise<T>;
  reduceScatter<T extends TypedArray>(x: T, op?: 'sum'): Promise<T>;
  allToAll<T extends TypedArray>(parts: T[]): Promise<T[]>;
}

/** Block r of n elements split over `size` parts: [floor(n·r/size), floor(n·(r+1)/size)). */
export function blockOf(n: number, r: number, size: number): { lo: number; hi: number } {
  return { lo: Math.floor((n * r) / size), hi: Math.floor((n * (r + 1)) / size) };
}
