/**
 * All-gather of variable-length contributions by Bruck's algorithm (ceil(log2 p) steps for any p), for
 * small messages. Work happens in a private buffer in rotated order (position j holds block rank+j); at the
 * step with distance d a rank sends its first min(d, p-d) blocks to rank-d and appends what rank+d sends.
 * The result is then copied into rank order: views into a single buffer, one per rank.
 */

import type { TypedArray } from '../../src/wire/vocabulary.js';
import type { Comm } from '../comm.js';
import { checkCounts, prefixOffsets } from './counts.js';
import { allocLike, bytesOf, copyInto, ctorOf, mod, sliceView, viewAs } from './typed-views.js';

const ALGORITHM = 'allgatherv-bruck';

export async function allGatherVBruck<T extends TypedArray>(
  comm: Comm,
  x: T,
  counts: readonly number[],
): Promise<T[]> {
  checkCounts(comm, counts, x.length, ALGORITHM);
  const { rank, size } = comm;
  const ctor = ctorOf(x);
  const offsets = prefixOffsets(counts);
  const rotatedCounts = counts.map((_, j) => counts[(rank + j) % size]);
  const rotatedOffsets = prefixOffsets(rotatedCounts);
  const work = allocLike<T>(ctor, offsets[size]);
  copyInto(work, 0, x);
  let have = 1;
  for (let step = 0; have < size; step++) {
    const count = Math.min(have, size - have);
    const to = mod(rank - have, size);
    const from = (rank + have) % size;
    // The sent prefix is never written again (we only append at rotatedOffsets[have] and beyond), and
    // `work` never reaches the caller, so no copy is needed.
    const outgoing = bytesOf(sliceView(work, 0, rotatedOffsets[count]));
    const [, buf] = await Promise.all([comm.send(to, step, outgoing), comm.recv(from, step)]);
    const expected = rotatedOffsets[have + count] - rotatedOffsets[have];
    copyInto(
      work,
      rotatedOffsets[have],
      viewAs<T>(ctor, buf, expected, { comm, peer: from, step, algorithm: ALGORITHM }),
    );
    have += count;
  }
  const out = allocLike<T>(ctor, offsets[size]);
  const parts: T[] = new Array(size);
  for (let j = 0; j < size; j++) {
    const r = (rank + j) % size;
    copyInto(out, offsets[r], sliceView(work, rotatedOffsets[j], rotatedOffsets[j + 1]));
  }
  for (let r = 0; r < size; r++) parts[r] = sliceView(out, offsets[r], offsets[r + 1]);
  return parts;
}
