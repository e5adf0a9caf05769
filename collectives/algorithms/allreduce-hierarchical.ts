/**
 * All-reduce for a group that spans hosts with several ranks on some of them (Open MPI's coll/han, NCCL's
 * multi-node rings): shared memory within a host, the network only between hosts.
 *
 * - Every host runs the same number L of ranks (the usual layout): reduce-scatter within each host (ring,
 *   shared memory), so local rank i holds block i of its host's sum; all-reduce block i among the local
 *   ranks i of every host (network, L streams at once); all-gather the blocks within each host. Each rank
 *   sends 2(L-1)/L of the vector within its host and 2(h-1)/(hL) of it across hosts; a flat ring over the
 *   same ranks crosses hosts h times per pass with 2(p-1)/p of the vector each.
 * - Uneven hosts: reduce onto each host's lowest rank, all-reduce among those leaders, broadcast back.
 *
 * The steps are the flat algorithms of select.ts on sub-groups, each in its own phase of the call.
 *
 * Bitwise reproducibility: every element is reduced along one fixed order (within its host, then across
 * hosts in an all-reduce that gives identical bits on every rank), then only copied: every rank gets the
 * same bits, run after run, for the same host layout. A different layout sums in a different order.
 */

import type { ReduceOp, TypedArray } from '../../src/wire/vocabulary.js';
import type { Comm } from '../comm.js';
import { assertOpSupported, finishAvg } from '../reduce-kernels.js';
import { hostLayout } from './host-layout.js';
import { onSubgroup } from './sub-comm.js';

export interface FlatAlgorithms {
  reduce<T extends TypedArray>(comm: Comm, x: T, op: ReduceOp, root: number): Promise<T>;
  allReduce<T extends TypedArray>(comm: Comm, x: T, op: ReduceOp): Promise<T>;
  broadcast<T extends TypedArray>(comm: Comm, x: T, root: number): Promise<T>;
  /** May write x (the all-reduce's own buffer): returns this rank's block, a view of x when it could. */
  reduceScatter<T extends TypedArray>(comm: Comm, x: T, op: ReduceOp): Promise<T>;
  allGatherV<T extends TypedArray>(comm: Comm, x: T, counts: readonly number[], out?: T): Promise<T[]>;
}

export async function allReduceHierarchical<T extends TypedArray>(
  phase: (n: number) => Comm,
  hosts: readonly number[],
  x: T,
  op: ReduceOp,
  flat: FlatAlgorithms,
): Promise<T> {
  assertOpSupported(x, op);
  const rank = phase(1).rank;
  const { local, leaders, column } = hostLayout(hosts, rank);
  // 'avg' must divide by the whole group once, not by each sub-group.
  const inner: ReduceOp = op === 'avg' ? 'sum' : op;
  if (column && x.length >= local.length) {
    const within = local.length;
    const block = within > 1 ? await onSubgroup(phase(1), local, (c) => flat.reduceScatter(c, x, inner)) : x;
    if (column.length > 1) await onSubgroup(phase(2), column, (c) => flat.allReduce(c, block, inner));
    if (op === 'avg') finishAvg(block, hosts.length);
    if (within > 1) {
      const counts = local.map((_, i) => blockEnd(x.length, i + 1, within) - blockEnd(x.length, i, within));
      await onSubgroup(phase(3), local, (c) => flat.allGatherV(c, block, counts, x));
    }
    return x;
  }
  if (local.length > 1) await onSubgroup(phase(1), local, (c) => flat.reduce(c, x, inner, 0));
  if (rank === local[0]) {
    if (leaders.length > 1) await onSubgroup(phase(2), leaders, (c) => flat.allReduce(c, x, inner));
    if (op === 'avg') finishAvg(x, hosts.length);
  }
  if (local.length > 1) await onSubgroup(phase(3), local, (c) => flat.broadcast(c, x, 0));
  return x;
}

/** Where block i of n elements split among p ranks begins (reduce-scatter's blocks: floor(n*i/p)). */
function blockEnd(n: number, i: number, p: number): number {
  return Math.floor((n * i) / p);
}
