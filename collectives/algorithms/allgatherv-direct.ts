/**
 * All-gather of known lengths in one round: every rank sends its contribution to every other rank and
 * receives each peer's straight into its place in the output (the caller's `out` when given: reused
 * memory, far cheaper to write on this VM than fresh). Where Bruck moves the same data through a work
 * array, a receive buffer and a final copy, this touches only the output.
 *
 * Cost: one round; p-1 messages of n bytes sent per rank, all at once, so select.ts uses it for small
 * groups and totals. Reproducibility: data is only copied.
 */

import type { TypedArray } from '../../src/wire/vocabulary.js';
import type { Comm } from '../comm.js';
import { checkCounts, prefixOffsets } from './counts.js';
import {
  allocUninitialized,
  copyInto,
  ctorOf,
  recvIntoView,
  sendableBytes,
  sliceView,
} from './typed-views.js';

const ALGORITHM = 'allgatherv-direct';

export async function allGatherVDirect<T extends TypedArray>(
  comm: Comm,
  x: T,
  counts: readonly number[],
  out?: T,
): Promise<T[]> {
  checkCounts(comm, counts, x.length, ALGORITHM);
  const { rank, size } = comm;
  const offsets = prefixOffsets(counts);
  const result = out ?? allocUninitialized<T>(ctorOf(x), offsets[size]);
  const parts = Array.from({ length: size }, (_, r) => sliceView(result, offsets[r], offsets[r + 1]));
  const mine = counts[rank] > 0 ? sendableBytes(comm, x) : undefined;
  copyInto(result, offsets[rank], x);
  const work: Promise<unknown>[] = [];
  for (let peer = 0; peer < size; peer++) {
    if (peer === rank) continue;
    // Both sides know every length, so empty contributions are neither sent nor awaited.
    if (mine) work.push(comm.send(peer, 0, mine));
    if (counts[peer] > 0) work.push(recvIntoView(comm, peer, 0, parts[peer], ALGORITHM));
  }
  await Promise.all(work);
  return parts;
}
