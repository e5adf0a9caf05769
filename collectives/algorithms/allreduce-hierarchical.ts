/**
 * All-reduce for a group that spans hosts with several ranks on some of them (Open MPI's coll/han, NCCL's
 * tree within and ring across nodes): reduce onto each host's leader over shared memory, all-reduce among
 * the leaders over the network, broadcast from each leader over shared memory. Only the leaders touch the
 * network, once each: a flat ring over p ranks on h hosts crosses hosts h times per pass with 2(p-1)/p of
 * the vector each, this sends 2(h-1)/h of it per leader.
 *
 * The three steps are the flat algorithms of select.ts on sub-groups, each in its own phase of the call.
 *
 * Bitwise reproducibility: every element is reduced along one fixed order (host-local reduction, then the
 * leaders' all-reduce, which gives identical bits on every leader), then only copied: every rank gets the
 * same bits, run after run, for the same host layout. A different layout sums in a different order.
 */

import type { ReduceOp, TypedArray } from '../../src/wire/vocabulary.js';
import type { Comm } from '../comm.js';
import { assertOpSupported, finishAvg } from '../reduce-kernels.js';
import { hostLayout } from './host-layout.js';
import { subComm } from './sub-comm.js';

export interface FlatAlgorithms {
  reduce<T extends TypedArray>(comm: Comm, x: T, op: ReduceOp, root: number): Promise<T>;
  allReduce<T extends TypedArray>(comm: Comm, x: T, op: ReduceOp): Promise<T>;
  broadcast<T extends TypedArray>(comm: Comm, x: T, root: number): Promise<T>;
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
  const { local, leaders } = hostLayout(hosts, rank);
  // 'avg' must divide by the whole group once, not by each sub-group.
  const inner: ReduceOp = op === 'avg' ? 'sum' : op;
  if (local.length > 1) await flat.reduce(subComm(phase(1), local), x, inner, 0);
  if (rank === local[0]) {
    if (leaders.length > 1) await flat.allReduce(subComm(phase(2), leaders), x, inner);
    if (op === 'avg') finishAvg(x, hosts.length);
  }
  if (local.length > 1) await flat.broadcast(subComm(phase(3), local), x, 0);
  return x;
}
