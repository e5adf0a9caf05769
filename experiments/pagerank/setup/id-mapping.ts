/**
 * Dense node indices across ranks without any rank holding all edges. Each rank first indexes the ids
 * of its own edges (local indices, first-seen order). Every id has an owner rank (a hash of the id);
 * ranks send their distinct ids to the owners (one all-to-all), each owner numbers the ids it received
 * 0..c-1, the counts give each owner an offset, and the owners reply with the global index of every id
 * asked for (a second all-to-all). Memory per rank: the rank's distinct ids plus the owned ones.
 */

import { IdIndex, ownerOf } from '../kernels/id-index.js';
import type { PagerankComm } from './comm.js';

export interface GlobalIds {
  /** Number of nodes of the whole graph. */
  nodes: number;
  /** Global index of each local index. */
  globalOfLocal: Int32Array;
  /** The ids this rank owns: global indices offset .. offset + owned.length - 1, in that order. */
  owned: Float64Array;
  offset: number;
}

export async function assignGlobalIds(comm: PagerankComm, localIds: Float64Array): Promise<GlobalIds> {
  const { size, rank } = comm;
  const owner = new Int32Array(localIds.length);
  const counts = new Int32Array(size);
  for (let i = 0; i < localIds.length; i++) {
    const o = ownerOf(localIds[i], size);
    owner[i] = o;
    counts[o]++;
  }
  const asks = Array.from({ length: size }, (_, o) => new Float64Array(counts[o]));
  const fill = new Int32Array(size);
  for (let i = 0; i < localIds.length; i++) asks[owner[i]][fill[owner[i]]++] = localIds[i];

  const received = await comm.allToAll(asks);
  let total = 0;
  for (const r of received) total += r.length;
  const mine = new IdIndex(Math.max(16, total >>> 1));
  const replies = received.map((ids) => {
    const out = new Int32Array(ids.length);
    mine.insertAll(ids, out);
    return out;
  });
  const ownedCounts = await comm.allGather(Float64Array.of(mine.size));
  let offset = 0;
  let nodes = 0;
  for (let r = 0; r < size; r++) {
    if (r < rank) offset += ownedCounts[r][0];
    nodes += ownedCounts[r][0];
  }
  for (const rep of replies) for (let i = 0; i < rep.length; i++) rep[i] += offset;
  const answers = await comm.allToAll(replies);

  // Answers from owner o come in the order this rank asked them: walk the local ids again.
  const globalOfLocal = new Int32Array(localIds.length);
  fill.fill(0);
  for (let i = 0; i < localIds.length; i++) {
    const o = owner[i];
    globalOfLocal[i] = answers[o][fill[o]++];
  }
  return { nodes, globalOfLocal, owned: mine.ids.slice(), offset };
}
