/**
 * The one place that picks an algorithm for a collective call, by operation, message bytes and world size.
 * The process group calls these functions with a fresh Comm per call. Thresholds start from MPICH's
 * defaults and are meant to be re-measured on the real transport (bench/collectives.ts).
 */

import type { ReduceOp, TypedArray } from '../../src/wire/vocabulary.js';
import type { Comm } from '../comm.js';
import { type Announced, allGatherAnnounce } from './allgather-announce.js';
import { allGatherVBruck } from './allgatherv-bruck.js';
import { allGatherVDirect } from './allgatherv-direct.js';
import { allGatherVRing } from './allgatherv-ring.js';
import { allReduceHierarchical } from './allreduce-hierarchical.js';
import {
  allReduceLocRecursiveDoubling,
  type LocOp,
  type LocResult,
} from './allreduce-loc-recursive-doubling.js';
import { allReduceRecursiveDoubling } from './allreduce-recursive-doubling.js';
import { allReduceRing } from './allreduce-ring.js';
import { allToAllVPairwise } from './alltoallv-pairwise.js';
import { barrierDissemination } from './barrier-dissemination.js';
import { broadcastBinomial } from './broadcast-binomial.js';
import { broadcastScatterAllGather } from './broadcast-scatter-allgather.js';
import { gatherVDirect } from './gatherv-direct.js';
import { spansHostsWithSharing } from './host-layout.js';
import { reduceBinomial } from './reduce-binomial.js';
import { reduceScatterGather } from './reduce-scatter-gather.js';
import { reduceScatterRing } from './reduce-scatter-ring.js';
import { scanRecursiveDoubling } from './scan-recursive-doubling.js';
import { scatterVDirect } from './scatterv-direct.js';
import { placeInto, type TypedArrayConstructor } from './typed-views.js';

/** All-reduce messages up to this many bytes use recursive doubling; larger ones the segmented ring. */
export const ALLREDUCE_RECURSIVE_DOUBLING_MAX_BYTES = 64 * 1024;
/**
 * With 2 ranks recursive doubling is one exchange of the whole vector where the ring is two of half of it,
 * for the same bytes copied: up to this size the saved round trip wins (measured on one host: 256 KiB
 * 0.6-0.74 ms against 1.2-1.7 ms, 1 MiB 0.85-1.05 against 0.95-1.37; at 4 MiB the ring's halved reduce
 * wins, 1.5-1.9 against 2.0-2.3 ms).
 */
export const ALLREDUCE_TWO_RANK_EXCHANGE_MAX_BYTES = 1 << 20;
/** Broadcasts up to this many bytes use the binomial tree; larger ones scatter + ring all-gather. */
export const BROADCAST_BINOMIAL_MAX_BYTES = 256 * 1024;
/** All-gathers whose total (all ranks) is up to this many bytes use Bruck; larger ones the ring. */
export const ALLGATHER_BRUCK_MAX_BYTES = 80 * 1024;
/**
 * Groups up to this size gather totals up to ALLGATHER_DIRECT_MAX_BYTES in one round of direct messages
 * received straight into the output (2 ranks, 64 KiB each, A/B in one run: see the README's table).
 */
export const ALLGATHER_DIRECT_MAX_RANKS = 8;
export const ALLGATHER_DIRECT_MAX_BYTES = 1 << 20;
/**
 * Largest single ring message (one segment of one block). 4 MiB matches a shared-memory slot; against 1 MiB
 * it halved the 64 MiB all-reduce on one host (fewer steps, each a wake-up of both ranks).
 */
export const RING_SEGMENT_BYTES = 4 << 20;
/**
 * Groups up to this size learn an all-gather's lengths in one round of direct messages (p-1 per rank), which
 * also carry contributions up to ALLGATHER_EAGER_BYTES; larger groups use a Bruck all-gather of the lengths.
 */
export const ALLGATHER_ANNOUNCE_MAX_RANKS = 8;
/**
 * 256 KiB less the 8-byte length: up to this a contribution rides on the announce message, so the
 * all-gather is one round (with `out`, received in place into warm scratch and copied into out).
 */
export const ALLGATHER_EAGER_BYTES = 256 * 1024 - 8;
/** Reduces up to this many bytes use the binomial tree; larger ones reduce-scatter + gather (Rabenseifner). */
export const REDUCE_BINOMIAL_MAX_BYTES = 64 * 1024;
/**
 * The hierarchical all-reduce runs its three steps on pieces of about this size, so the network step of one
 * piece overlaps the shared-memory steps of the next and previous (at most HIERARCHICAL_MAX_PIECES). 2 hosts
 * x 2 ranks at 1 Gbit: 64 MiB 0.69x the flat ring's time in 8 pieces, 1.29x unpipelined; the bound is 2/3
 * (the cross-host step moves 64 MiB per host each way where the flat ring moves 96).
 */
export const HIERARCHICAL_PIECE_BYTES = 8 << 20;
export const HIERARCHICAL_MAX_PIECES = 32;
/** Ring segment passes in flight at once. */
export const RING_PIPELINE_DEPTH = 4;

export type AllReduceAlgorithm = 'recursive-doubling' | 'ring' | 'hierarchical';
export type BroadcastAlgorithm = 'binomial' | 'scatter-allgather';
export type AllGatherAlgorithm = 'direct' | 'bruck' | 'ring';
export type ReduceAlgorithm = 'binomial' | 'scatter-gather';

export function allReduceAlgorithm(
  bytes: number,
  size: number,
  length: number,
  hosts?: readonly number[],
): AllReduceAlgorithm {
  // With fewer elements than ranks some ring blocks are empty and the ring only adds steps.
  if (bytes <= ALLREDUCE_RECURSIVE_DOUBLING_MAX_BYTES || length < size) return 'recursive-doubling';
  if (size === 2 && bytes <= ALLREDUCE_TWO_RANK_EXCHANGE_MAX_BYTES) return 'recursive-doubling';
  // Across hosts with several ranks on one, the network is the slow link: let only host leaders use it.
  return spansHostsWithSharing(hosts) ? 'hierarchical' : 'ring';
}

export function broadcastAlgorithm(bytes: number, size: number): BroadcastAlgorithm {
  // Below 3 ranks the scatter saves nothing: the root's link carries the whole vector either way.
  return bytes <= BROADCAST_BINOMIAL_MAX_BYTES || size < 3 ? 'binomial' : 'scatter-allgather';
}

export function allGatherAlgorithm(totalBytes: number, size: number): AllGatherAlgorithm {
  if (size <= ALLGATHER_DIRECT_MAX_RANKS && totalBytes <= ALLGATHER_DIRECT_MAX_BYTES) return 'direct';
  return totalBytes <= ALLGATHER_BRUCK_MAX_BYTES ? 'bruck' : 'ring';
}

export function reduceAlgorithm(bytes: number, size: number, length: number): ReduceAlgorithm {
  return bytes <= REDUCE_BINOMIAL_MAX_BYTES || length < size || size < 3 ? 'binomial' : 'scatter-gather';
}

const ringOptions = () => ({ segmentBytes: RING_SEGMENT_BYTES, pipelineDepth: RING_PIPELINE_DEPTH });

/**
 * In place; returns x. `phase` (the call's Comm per phase, GroupCore's) enables the hierarchical
 * algorithm, which runs its steps on sub-groups in phases 1–3.
 */
export function allReduce<T extends TypedArray>(
  comm: Comm,
  x: T,
  op: ReduceOp,
  phase?: (n: number) => Comm,
): Promise<T> {
  const a = allReduceAlgorithm(x.byteLength, comm.size, x.length, phase && comm.hosts);
  comm.note?.(`allreduce-${a}`);
  if (a === 'hierarchical' && phase && comm.hosts) {
    return allReduceHierarchical(
      phase,
      comm.hosts,
      x,
      op,
      {
        reduce,
        allReduce,
        broadcast,
        reduceScatter: reduceScatterInPlace,
        allGatherV,
      },
      hierarchicalPieces(x.byteLength),
    );
  }
  return a === 'ring' ? allReduceRing(comm, x, op, ringOptions()) : allReduceRecursiveDoubling(comm, x, op);
}

export function hierarchicalPieces(bytes: number): number {
  return Math.max(1, Math.min(HIERARCHICAL_MAX_PIECES, Math.round(bytes / HIERARCHICAL_PIECE_BYTES)));
}

/** In place on every rank; returns x. */
export function broadcast<T extends TypedArray>(comm: Comm, x: T, root: number): Promise<T> {
  const a = broadcastAlgorithm(x.byteLength, comm.size);
  comm.note?.(`broadcast-${a}`);
  return a === 'binomial' ? broadcastBinomial(comm, x, root) : broadcastScatterAllGather(comm, x, root);
}

/**
 * counts[r] = element count of rank r's contribution (the same array on every rank). With `out` (length =
 * the sum of counts, x's dtype) the result is views into it: reused output memory is far cheaper to
 * write than fresh memory.
 */
export async function allGatherV<T extends TypedArray>(
  comm: Comm,
  x: T,
  counts: readonly number[],
  out?: T,
): Promise<T[]> {
  let total = 0;
  for (const c of counts) total += c;
  const a = allGatherAlgorithm(total * x.BYTES_PER_ELEMENT, comm.size);
  comm.note?.(`allgatherv-${a}`);
  if (a === 'ring') return allGatherVRing(comm, x, counts, out);
  if (a === 'direct') return allGatherVDirect(comm, x, counts, out);
  const parts = await allGatherVBruck(comm, x, counts);
  return out ? placeInto(out, parts) : parts;
}

/**
 * Every rank's length for an all-gather whose lengths may differ, and in small groups, when every
 * contribution is small, the data too (then no second round is needed).
 */
export async function allGatherCounts<T extends TypedArray>(
  comm: Comm,
  x: T,
  out?: T,
): Promise<Announced<T>> {
  if (comm.size <= ALLGATHER_ANNOUNCE_MAX_RANKS) {
    comm.note?.('allgather-announce');
    return allGatherAnnounce(comm, x, ALLGATHER_EAGER_BYTES, out);
  }
  comm.note?.('allgatherv-bruck');
  const all = await allGatherVBruck(comm, new Float64Array([x.length]), new Array(comm.size).fill(1));
  return { counts: all.map((a) => a[0]) };
}

/** The root's x holds the result; other ranks' x is unmodified. Returns x. */
export function reduce<T extends TypedArray>(comm: Comm, x: T, op: ReduceOp, root: number): Promise<T> {
  const a = reduceAlgorithm(x.byteLength, comm.size, x.length);
  comm.note?.(`reduce-${a}`);
  return a === 'binomial'
    ? reduceBinomial(comm, x, op, root)
    : reduceScatterGather(comm, x, op, root, ringOptions());
}

/** This rank's block [floor(n*r/p), floor(n*(r+1)/p)) of the reduction; x is unmodified. */
export function reduceScatter<T extends TypedArray>(comm: Comm, x: T, op: ReduceOp, out?: T): Promise<T> {
  comm.note?.('reduce-scatter-ring');
  return reduceScatterRing(comm, x, op, { ...ringOptions(), out });
}

/** The same, allowed to write x (a step of a composed all-reduce): the result is a view of x. */
export function reduceScatterInPlace<T extends TypedArray>(comm: Comm, x: T, op: ReduceOp): Promise<T> {
  comm.note?.('reduce-scatter-ring');
  return reduceScatterRing(comm, x, op, { ...ringOptions(), inPlace: true });
}

/** Root gets one array per rank; others undefined. */
export function gatherV<T extends TypedArray>(
  comm: Comm,
  x: T,
  counts: readonly number[],
  root: number,
): Promise<T[] | undefined> {
  comm.note?.('gatherv-direct');
  return gatherVDirect(comm, x, counts, root);
}

/** The root passes one array per rank; every rank gets its own. `counts` is optional on non-roots. */
export function scatterV<T extends TypedArray>(
  comm: Comm,
  parts: readonly T[] | undefined,
  counts: readonly number[] | undefined,
  root: number,
  dtype: TypedArrayConstructor,
): Promise<T> {
  comm.note?.('scatterv-direct');
  return scatterVDirect<T>(comm, parts, counts, root, dtype);
}

/** parts[d] goes to rank d; recvCounts[s] = element count arriving from rank s. Result indexed by source. */
export function allToAllV<T extends TypedArray>(
  comm: Comm,
  parts: readonly T[],
  recvCounts: readonly number[],
): Promise<T[]> {
  comm.note?.('alltoallv-pairwise');
  return allToAllVPairwise(comm, parts, recvCounts);
}

export function barrier(comm: Comm): Promise<void> {
  comm.note?.('barrier-dissemination');
  return barrierDissemination(comm);
}

/** In place: op over ranks 0..rank (inclusive) or 0..rank-1 (exclusive; rank 0 gets the identity). */
export function scan<T extends TypedArray>(comm: Comm, x: T, op: ReduceOp, exclusive: boolean): Promise<T> {
  comm.note?.('scan-recursive-doubling');
  return scanRecursiveDoubling(comm, x, op, exclusive);
}

/** Per element, the extreme value over all ranks and the lowest rank holding it; x is unmodified. */
export function allReduceLoc<T extends TypedArray>(comm: Comm, x: T, op: LocOp): Promise<LocResult<T>> {
  comm.note?.('allreduce-loc-recursive-doubling');
  return allReduceLocRecursiveDoubling(comm, x, op);
}
