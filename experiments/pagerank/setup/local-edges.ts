/**
 * One rank's (or one pool partition's) edges as local indices: ends = [a0, b0, a1, b1, ...] into the
 * distinct ids in first-seen order, held in an IdIndex. Mapping the ends is the costliest part of
 * setup (a hash probe per end, about one cache miss each), so the sorted-by-node1 order of SNAP files
 * is used: a node1 equal to the previous line's is not looked up again, which halves the probes there.
 */

import { IdIndex } from '../kernels/id-index.js';
import type { EdgeChunk } from './edges.js';

export interface LocalEdges {
  ends: Int32Array;
  ids: IdIndex;
}

/**
 * Maps every chunk's ends, keeping one Int32Array per chunk and joining them once at the end: peak
 * memory twice the final list, where a doubling buffer can reach three times it (old + new copy).
 */
export async function indexLocalEdges(chunks: AsyncIterable<EdgeChunk>): Promise<LocalEdges> {
  const ids = new IdIndex(1 << 16);
  const parts: Int32Array[] = [];
  let total = 0;
  let lastSrc = Number.NaN;
  let lastIdx = -1;
  for await (const { src, dst } of chunks) {
    const part = new Int32Array(2 * src.length);
    let at = 0;
    for (let i = 0; i < src.length; i++) {
      const a = src[i];
      if (a !== lastSrc) {
        lastSrc = a;
        lastIdx = ids.insert(a);
      }
      part[at++] = lastIdx;
      part[at++] = ids.insert(dst[i]);
    }
    parts.push(part);
    total += part.length;
  }
  if (parts.length === 1) return { ends: parts[0], ids };
  const ends = new Int32Array(total);
  let at = 0;
  for (const p of parts.splice(0)) {
    ends.set(p, at);
    at += p.length;
  }
  return { ends, ids };
}

/** Number of ends per local index (the local degree: a self-loop counts twice). */
export function localDegrees(ends: Int32Array, distinct: number): Float64Array {
  const deg = new Float64Array(distinct);
  for (let i = 0; i < ends.length; i++) deg[ends[i]]++;
  return deg;
}
