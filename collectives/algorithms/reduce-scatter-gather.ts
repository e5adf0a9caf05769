/**
 * Reduce for large messages (Rabenseifner): ring reduce-scatter, then every rank sends its reduced block to
 * the root. Each rank sends about 2x the vector instead of log2(p) x in the binomial tree, and the
 * reduction work is spread over all ranks. The root's x receives the result; others' x is unmodified.
 */

import type { ReduceOp, TypedArray } from '../../src/wire/vocabulary.js';
import type { Comm } from '../comm.js';
import { assertOpSupported } from '../reduce-kernels.js';
import type { RingOptions } from './allreduce-ring.js';
import { checkRoot } from './check-root.js';
import { reduceScatterRing, reduceScatterRingSteps } from './reduce-scatter-ring.js';
import { blockStart, bytesOf, copyInto, ctorOf, viewAs } from './typed-views.js';

const ALGORITHM = 'reduce-scatter-gather';

export async function reduceScatterGather<T extends TypedArray>(
  comm: Comm,
  x: T,
  op: ReduceOp,
  root: number,
  options: RingOptions = {},
): Promise<T> {
  assertOpSupported(x, op);
  checkRoot(comm, root, ALGORITHM);
  const { rank, size } = comm;
  const n = x.length;
  if (size === 1 || n === 0) return x;
  // avg is finished per block inside the reduce-scatter, which gives the same bits as finishing the whole.
  const block = await reduceScatterRing(comm, x, op, options);
  const step = reduceScatterRingSteps(n, size, x.BYTES_PER_ELEMENT, options);
  if (rank !== root) {
    // The block lives in memory the algorithm allocated and never hands out, so it can go uncopied.
    await comm.send(root, step, bytesOf(block));
    return x;
  }
  const ctor = ctorOf(x);
  copyInto(x, blockStart(n, size, rank), block);
  await Promise.all(
    Array.from({ length: size }, async (_, peer) => {
      if (peer === rank) return;
      const start = blockStart(n, size, peer);
      const count = blockStart(n, size, peer + 1) - start;
      copyInto(
        x,
        start,
        viewAs<T>(ctor, await comm.recv(peer, step), count, { comm, peer, step, algorithm: ALGORITHM }),
      );
    }),
  );
  return x;
}
