/**
 * Gather of variable-length contributions straight to the root: every rank sends once and the root posts
 * all receives at once. Root gets one array per rank (its own is a copy of x); others get undefined.
 */

import type { TypedArray } from '../../src/wire/vocabulary.js';
import type { Comm } from '../comm.js';
import { checkRoot } from './check-root.js';
import { checkCounts } from './counts.js';
import { copyBytes, ctorOf, viewAs } from './typed-views.js';

const ALGORITHM = 'gatherv-direct';

export async function gatherVDirect<T extends TypedArray>(
  comm: Comm,
  x: T,
  counts: readonly number[],
  root: number,
): Promise<T[] | undefined> {
  checkRoot(comm, root, ALGORITHM);
  checkCounts(comm, counts, x.length, ALGORITHM);
  const { rank, size } = comm;
  if (rank !== root) {
    // Nothing answers this message, so the caller's x goes as a copy.
    await comm.send(root, 0, copyBytes(x));
    return undefined;
  }
  const ctor = ctorOf(x);
  const parts: T[] = new Array(size);
  parts[rank] = x.slice() as T;
  await Promise.all(
    Array.from({ length: size }, async (_, peer) => {
      if (peer === rank) return;
      const buf = await comm.recv(peer, 0);
      parts[peer] = viewAs<T>(ctor, buf, counts[peer], { comm, peer, step: 0, algorithm: ALGORITHM });
    }),
  );
  return parts;
}
