/**
 * All-gather of variable-length contributions around a ring (bandwidth-optimal, p-1 steps): at step s rank
 * r forwards block r-s to the right and receives block r-s-1 from the left. Returns one array per rank,
 * views into a single buffer in rank order; zero-length contributions are allowed.
 */

import type { TypedArray } from '../../src/wire/vocabulary.js';
import type { Comm } from '../comm.js';
import { checkCounts, prefixOffsets } from './counts.js';
import {
  allocUninitialized,
  copyInto,
  ctorOf,
  mod,
  recvIntoView,
  sendableBytes,
  sliceView,
  viewAs,
} from './typed-views.js';

const ALGORITHM = 'allgatherv-ring';

export async function allGatherVRing<T extends TypedArray>(
  comm: Comm,
  x: T,
  counts: readonly number[],
  /** Where to put the result (length = the sum of counts); a new array when undefined. */
  into?: T,
): Promise<T[]> {
  checkCounts(comm, counts, x.length, ALGORITHM);
  const { rank, size } = comm;
  const ctor = ctorOf(x);
  const offsets = prefixOffsets(counts);
  // Every element is written below (own block copied, the others received), so no zero fill.
  const out = into ?? allocUninitialized<T>(ctor, offsets[size]);
  copyInto(out, offsets[rank], x);
  if (size > 1) {
    const right = (rank + 1) % size;
    const left = mod(rank - 1, size);
    // Our block leaves as a private copy unless the Comm delivers before the call returns (nothing comes
    // back to prove the right neighbour has it). Received blocks land in `out` and are forwarded from there:
    // `out` is never written again at a block once it arrived.
    let outgoing = sendableBytes(comm, x);
    for (let s = 0; s < size - 1; s++) {
      const block = mod(rank - s - 1, size);
      if (comm.sendsCompleteOnReturn) {
        const target = sliceView(out, offsets[block], offsets[block + 1]);
        const [, got] = await Promise.all([
          comm.send(right, s, outgoing),
          recvIntoView(comm, left, s, target, ALGORITHM),
        ]);
        outgoing = got;
        continue;
      }
      // Without delivery-before-return, forward the receive buffer we own (the caller may write `out`).
      const [, buf] = await Promise.all([comm.send(right, s, outgoing), comm.recv(left, s)]);
      copyInto(
        out,
        offsets[block],
        viewAs<T>(ctor, buf, counts[block], { comm, peer: left, step: s, algorithm: ALGORITHM }),
      );
      outgoing = buf;
    }
  }
  const parts: T[] = new Array(size);
  for (let r = 0; r < size; r++) parts[r] = sliceView(out, offsets[r], offsets[r + 1]);
  return parts;
}
