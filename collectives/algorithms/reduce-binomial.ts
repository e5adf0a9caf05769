/**
 * Reduce to `root` up a binomial tree (ceil(log2 p) rounds). The root's x receives the result; every other
 * rank's x is left unmodified (partials are combined into receive buffers, which the algorithm owns).
 */

import type { ReduceOp, TypedArray } from '../../src/wire/vocabulary.js';
import type { Comm } from '../comm.js';
import { assertOpSupported, finishAvg, reduceTo } from '../reduce-kernels.js';
import { checkRoot } from './check-root.js';
import { bytesOf, copyBytes, copyInto, ctorOf, mod, viewAs } from './typed-views.js';

const ALGORITHM = 'reduce-binomial';

export async function reduceBinomial<T extends TypedArray>(
  comm: Comm,
  x: T,
  op: ReduceOp,
  root: number,
): Promise<T> {
  assertOpSupported(x, op);
  checkRoot(comm, root, ALGORITHM);
  const { rank, size } = comm;
  const n = x.length;
  if (size === 1 || n === 0) return x;
  const ctor = ctorOf(x);
  const relative = mod(rank - root, size);
  let acc: T = x;
  let accIsOwn = false;
  for (let mask = 1; mask < size; mask <<= 1) {
    if ((relative & mask) === 0) {
      const childRel = relative | mask;
      if (childRel >= size) continue;
      const child = mod(childRel + root, size);
      const partial = viewAs<T>(ctor, await comm.recv(child, 0), n, {
        comm,
        peer: child,
        step: 0,
        algorithm: ALGORITHM,
      });
      // Our (lower relative rank) data on the left; the result lands in the buffer we own.
      reduceTo(partial, acc, partial, op);
      acc = partial;
      accIsOwn = true;
    } else {
      const parent = mod((relative & ~mask) + root, size);
      // A leaf's x is the caller's and nothing answers this message, so it goes as a copy.
      await comm.send(parent, 0, accIsOwn ? bytesOf(acc) : copyBytes(x));
      return x;
    }
  }
  copyInto(x, 0, acc);
  if (op === 'avg') finishAvg(x, size);
  return x;
}
