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
 * Pipelined (as coll/han does): the vector is cut into `pieces` pieces, and each piece runs the three
 * steps, one piece after another per step, so the network carries piece k while shared memory reduces
 * piece k+1 and gathers piece k-1; run one after another, the steps left the network idle for a third
 * of the call (2 hosts x 2 ranks, 64 MiB at 1 Gbit: reduce-scatter 25-170 ms, gather 10-190 ms, around
 * a ~600 ms cross-host step). The pieces are disjoint, so the steps of different pieces never touch the
 * same memory. Within a piece no step waits for the previous one's acknowledgements (settle), because what
 * a step sent is only written again by a later step's receive from a peer that had already received it:
 * the gather writes the peer's blocks, which the reduce-scatter sent to that peer, and the peer gathers
 * only after its reduce-scatter received them; the cross-host step touches this rank's own block only, and
 * the gather only reads it. 'avg' divides once at the end, after every send was acknowledged (dividing a
 * block whose cross-host send was still in flight would send divided values to the other host).
 *
 * Bitwise reproducibility: every element is reduced along one fixed order (within its host, then across
 * hosts in an all-reduce that gives identical bits on every rank), then only copied: every rank gets the
 * same bits, run after run, for the same host layout. A different layout sums in a different order.
 */

import type { ReduceOp, TypedArray } from '../../src/wire/vocabulary.js';
import type { Comm } from '../comm.js';
import { assertOpSupported, finishAvg } from '../reduce-kernels.js';
import { hostLayout } from './host-layout.js';
import { onSubgroup, subComm } from './sub-comm.js';
import { blockStart } from './typed-views.js';

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
  pieces = 1,
): Promise<T> {
  assertOpSupported(x, op);
  const rank = phase(1).rank;
  const { local, leaders, column } = hostLayout(hosts, rank);
  // 'avg' must divide by the whole group once, not by each sub-group.
  const inner: ReduceOp = op === 'avg' ? 'sum' : op;
  if (column && x.length >= local.length) {
    const cut = Math.max(1, Math.min(pieces, Math.floor(x.length / local.length)));
    await pipelinedSteps(phase, local, column, x, inner, cut, flat);
    if (op === 'avg') {
      await phase(1).settle?.();
      finishAvg(x, hosts.length);
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

/**
 * Reduce-scatter within the host, all-reduce across hosts, all-gather within the host, piece by piece:
 * each step takes the pieces in order, a piece enters a step once it left the previous one. Piece k's
 * steps use phases 3k+1..3k+3 (at most 84 pieces: steps are 32-bit and a phase spans 2^24).
 */
async function pipelinedSteps<T extends TypedArray>(
  phase: (n: number) => Comm,
  local: readonly number[],
  column: readonly number[],
  x: T,
  op: ReduceOp,
  pieces: number,
  flat: FlatAlgorithms,
): Promise<void> {
  const within = local.length;
  let scattered: Promise<unknown> = Promise.resolve();
  let reduced: Promise<unknown> = Promise.resolve();
  let gathered: Promise<unknown> = Promise.resolve();
  const all: Promise<unknown>[] = [];
  for (let k = 0; k < pieces; k++) {
    const piece = x.subarray(blockStart(x.length, pieces, k), blockStart(x.length, pieces, k + 1)) as T;
    const p = 3 * k;
    const block = scattered.then(() =>
      within > 1 ? inSubgroup(phase(p + 1), local, (c) => flat.reduceScatter(c, piece, op)) : piece,
    );
    const across = Promise.all([block, reduced]).then(([b]) =>
      column.length > 1 ? inSubgroup(phase(p + 2), column, (c) => flat.allReduce(c, b, op)) : b,
    );
    const counts = local.map(
      (_, i) => blockStart(piece.length, within, i + 1) - blockStart(piece.length, within, i),
    );
    const done = Promise.all([across, gathered]).then(([b]) =>
      within > 1 ? inSubgroup(phase(p + 3), local, (c) => flat.allGatherV(c, b, counts, piece)) : undefined,
    );
    scattered = block;
    reduced = across;
    gathered = done;
    all.push(block, across, done);
  }
  await Promise.all(all);
}

/** A step on a sub-group whose sends the pipeline may leave in flight (see the file's comment). */
function inSubgroup<R>(comm: Comm, members: readonly number[], step: (sub: Comm) => Promise<R>): Promise<R> {
  return step(subComm(comm, members, comm.sendsCompleteOnReturn === true));
}
