/**
 * Scatter of variable-length parts straight from the root: the root sends part r to rank r, all at once.
 * Non-roots may pass `counts` to have their part's length checked; without it any length is accepted.
 */

import type { TypedArray } from '../../src/wire/vocabulary.js';
import type { Comm } from '../comm.js';
import { checkRoot } from './check-root.js';
import { checkCounts } from './counts.js';
import { copyBytes, type TypedArrayConstructor, viewAs } from './typed-views.js';

const ALGORITHM = 'scatterv-direct';

export async function scatterVDirect<T extends TypedArray>(
  comm: Comm,
  parts: readonly T[] | undefined,
  counts: readonly number[] | undefined,
  root: number,
  ctor: TypedArrayConstructor,
): Promise<T> {
  checkRoot(comm, root, ALGORITHM);
  const { rank, size } = comm;
  if (counts !== undefined) checkCounts(comm, counts, undefined, ALGORITHM);
  if (rank === root) {
    if (parts === undefined || parts.length !== size) {
      throw new RangeError(
        `${ALGORITHM}: the root (rank ${root}) must pass one array per rank (${size}), got ${parts === undefined ? 'none' : parts.length}`,
      );
    }
    parts.forEach((part, r) => {
      if (part.constructor !== ctor) {
        throw new TypeError(`${ALGORITHM}: part ${r} is a ${part.constructor.name}, expected ${ctor.name}`);
      }
      if (counts !== undefined && part.length !== counts[r]) {
        throw new RangeError(
          `${ALGORITHM}: part ${r} has ${part.length} elements but counts[${r}] = ${counts[r]}`,
        );
      }
    });
    // Nothing answers these messages, so each part goes as a copy the caller cannot touch.
    await Promise.all(
      parts.map((part, peer) => (peer === rank ? undefined : comm.send(peer, 0, copyBytes(part)))),
    );
    return parts[rank].slice() as T;
  }
  const buf = await comm.recv(root, 0);
  const bpe = ctor.BYTES_PER_ELEMENT;
  const count = counts !== undefined ? counts[rank] : Math.floor(buf.byteLength / bpe);
  return viewAs<T>(ctor, buf, count, { comm, peer: root, step: 0, algorithm: ALGORITHM });
}
