/**
 * Inclusive and exclusive prefix reduction (MPI_Scan / MPI_Exscan) by recursive doubling, as MPICH's
 * generic scan: in round k every rank swaps its running partial with rank ^ 2^k; a rank folds what a
 * lower partner sent into its result. ceil(log2 p) rounds, each sending and receiving the whole vector
 * (latency-optimal; a pipelined chain would move fewer bytes for very large vectors on many ranks).
 * Works on any p: a partner beyond the last rank holds nothing and is skipped.
 *
 * Reproducibility: rank r's result is one fixed association of x_0..x_r that depends only on r and p
 * (lower ranks' data is always the left operand), so float results are bitwise identical from run to
 * run; they may differ in the last bits from a left-to-right fold.
 */

import type { ReduceOp, TypedArray } from '../../src/wire/vocabulary.js';
import type { Comm } from '../comm.js';
import { fillIdentity } from '../reduce-identity.js';
import { assertOpSupported, reduceTo } from '../reduce-kernels.js';
import { bytesOf, copyInto, ctorOf, viewAs } from './typed-views.js';

const ALGORITHM = 'scan-recursive-doubling';

/** In place: x becomes op(x_0..x_rank) (inclusive) or op(x_0..x_{rank-1}) (exclusive). Returns x. */
export async function scanRecursiveDoubling<T extends TypedArray>(
  comm: Comm,
  x: T,
  op: ReduceOp,
  exclusive: boolean,
): Promise<T> {
  assertOpSupported(x, op);
  if (op === 'avg') throw new TypeError(`${ALGORITHM}: 'avg' is not a prefix op; scan with 'sum' and divide`);
  const { rank, size } = comm;
  const n = x.length;
  if (n === 0) return x;
  const ctor = ctorOf(x);
  // The partial is sent every round and x is written at the end, so the partial starts as a copy.
  let partial = x.slice() as T;
  let result: T | undefined = exclusive ? undefined : x;
  for (let mask = 1, step = 0; mask < size; mask <<= 1, step++) {
    const peer = rank ^ mask;
    if (peer >= size) continue;
    const sent = comm.send(peer, step, bytesOf(partial));
    const other = viewAs<T>(ctor, await comm.recv(peer, step), n, { comm, peer, step, algorithm: ALGORITHM });
    await sent;
    // Every combination goes into the received buffer or the result, never into a buffer already sent.
    if (peer < rank) {
      if (result === undefined) result = other.slice() as T;
      else reduceTo(result, other, result, op);
      reduceTo(other, other, partial, op);
    } else {
      reduceTo(other, partial, other, op);
    }
    partial = other;
  }
  if (!exclusive) return x;
  if (result === undefined) fillIdentity(x, op);
  else copyInto(x, 0, result);
  return x;
}
