/**
 * All-reduce by recursive doubling (latency-optimal: ceil(log2 p) exchanges of the whole vector), for small
 * messages. Non powers of two fold as MPICH does: of the first 2*rem ranks, each even rank hands its data
 * to the odd rank above it and waits; the remaining pof2 ranks run the doubling; the odd ranks hand the
 * result back.
 *
 * Bitwise reproducibility: at every exchange both partners compute (lower rank's data) ⊕ (higher rank's
 * data), so after each round every rank of a subcube holds identical bits.
 */

import type { ReduceOp, TypedArray } from '../../src/wire/vocabulary.js';
import type { Comm } from '../comm.js';
import { assertOpSupported, finishAvg, reduceTo } from '../reduce-kernels.js';
import { bytesOf, copyInto, ctorOf, recvIntoView, scratchLike } from './typed-views.js';

const ALGORITHM = 'allreduce-recursive-doubling';

export async function allReduceRecursiveDoubling<T extends TypedArray>(
  comm: Comm,
  x: T,
  op: ReduceOp,
): Promise<T> {
  assertOpSupported(x, op);
  const { rank, size } = comm;
  const n = x.length;
  if (size === 1 || n === 0) return x;
  const ctor = ctorOf(x);

  let pof2 = 1;
  let rounds = 0;
  while (pof2 * 2 <= size) {
    pof2 *= 2;
    rounds++;
  }
  const rem = size - pof2;
  const foldStep = 0;
  const unfoldStep = rounds + 1;

  // Every buffer but x is scratch the group lends for the call: warm, reused memory.
  const buffer = (): T => scratchLike<T>(comm, ctor, n);
  let acc: T | undefined;
  let newRank = -1;
  if (rank < 2 * rem) {
    if (rank % 2 === 0) {
      // Sent without a copy: we only write x after rank+1's result arrives, and it sends that after
      // receiving this message.
      await comm.send(rank + 1, foldStep, bytesOf(x));
    } else {
      const lower = buffer();
      await recvIntoView(comm, rank - 1, foldStep, lower, ALGORITHM);
      reduceTo(lower, lower, x, op);
      acc = lower;
      newRank = rank >> 1;
    }
  } else {
    // A private copy: nothing proves the last partner has our data when we return x to the caller.
    acc = buffer();
    copyInto(acc, 0, x);
    newRank = rank - rem;
  }

  if (acc !== undefined) {
    let cur: T = acc;
    let step = 1;
    for (let mask = 1; mask < pof2; mask <<= 1, step++) {
      const partnerNew = newRank ^ mask;
      const peer = partnerNew < rem ? partnerNew * 2 + 1 : partnerNew + rem;
      // cur is never written once sent; the combination goes into the received buffer.
      const other = buffer();
      const sent = comm.send(peer, step, bytesOf(cur));
      await recvIntoView(comm, peer, step, other, ALGORITHM);
      await sent;
      if (peer < rank) reduceTo(other, other, cur, op);
      else reduceTo(other, cur, other, op);
      cur = other;
    }
    if (rank < 2 * rem) await comm.send(rank - 1, unfoldStep, bytesOf(cur));
    copyInto(x, 0, cur);
  } else {
    // x was sent at the fold; rank+1 sends the result only after it received and used that.
    await recvIntoView(comm, rank + 1, unfoldStep, x, ALGORITHM);
  }
  if (op === 'avg') finishAvg(x, size);
  return x;
}
