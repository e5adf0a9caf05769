/**
 * The collectives PageRank's SPMD modes use, as a narrow interface: the setup and the drivers name
 * only what they call, and the process group (docs/ARCHITECTURE.md "Public API") is passed as it is.
 */
import type { TypedArray } from '../../../src/wire/vocabulary.js';

export interface PagerankComm {
  readonly rank: number;
  readonly size: number;
  allGather<T extends TypedArray>(x: T): Promise<T[]>;
  allReduce<T extends TypedArray>(x: T, op?: 'sum' | 'max' | 'min'): Promise<T>;
  allToAll<T extends TypedArray>(parts: T[]): Promise<T[]>;
}
