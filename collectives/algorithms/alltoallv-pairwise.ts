/**
 * All-to-all of variable-length parts by pairwise exchange: at step s (1..p-1) rank r sends its part for
 * r+s and receives the part from r-s, so every rank has exactly one send and one receive in flight and no
 * receiver is flooded. Returns one array per source rank (its own part is a copy).
 */

import type { TypedArray } from '../../src/wire/vocabulary.js';
import type { Comm } from '../comm.js';
import { checkCounts } from './counts.js';
import { copyBytes, ctorOf, mod, viewAs } from './typed-views.js';

const ALGORITHM = 'alltoallv-pairwise';

export async function allToAllVPairwise<T extends TypedArray>(
  comm: Comm,
  parts: readonly T[],
  recvCounts: readonly number[],
): Promise<T[]> {
  const { rank, size } = comm;
  if (parts.length !== size) {
    throw new RangeError(
      `${ALGORITHM}: rank ${rank} passes ${parts.length} parts but the group has ${size} ranks`,
    );
  }
  const ctor = ctorOf(parts[0]);
  parts.forEach((part, r) => {
    if (part.constructor !== ctor) {
      throw new TypeError(
        `${ALGORITHM}: rank ${rank} part ${r} is a ${part.constructor.name}, part 0 a ${ctor.name}`,
      );
    }
  });
  checkCounts(comm, recvCounts, parts[rank].length, ALGORITHM);
  const received: T[] = new Array(size);
  received[rank] = parts[rank].slice() as T;
  for (let s = 1; s < size; s++) {
    const to = (rank + s) % size;
    const from = mod(rank - s, size);
    // Nothing proves `to` has its part before the caller regains `parts`, so it goes as a copy.
    const [, buf] = await Promise.all([comm.send(to, s, copyBytes(parts[to])), comm.recv(from, s)]);
    received[from] = viewAs<T>(ctor, buf, recvCounts[from], {
      comm,
      peer: from,
      step: s,
      algorithm: ALGORITHM,
    });
  }
  return received;
}
