/**
 * Remote functions of the pool drivers (global-pool.ts, paper-pool.ts), named by this module's URL +
 * export name, so every worker imports the same code. Partitions, their splits and the row blocks are
 * task results that stay in the producing worker's object store; the driver passes their refs back,
 * and the pool's locality-aware scheduler runs each task on the worker that holds its largest argument
 * (see global-pool.ts).
 */

import { accumulateRows, type SegmentedRows, segmentRows } from '../kernels/segmented-rows.js';
import { type BlockScores, torchPageRank } from '../kernels/torch-ppr.js';
import { type EdgeFile, edgeBlockChunks, loadEdgeBlock, openEdgeFile } from '../setup/edges.js';
import { indexLocalEdges, localDegrees } from '../setup/local-edges.js';
import { csrOfRows, partsFor } from '../setup/owned-rows.js';

/** One partition's edges as local indices, the ids they stand for and each id's local degree. */
export interface Partition {
  ids: Float64Array;
  ends: Int32Array;
  degree: Float64Array;
}

async function edgeFile(path: string, skipBadLines: boolean): Promise<EdgeFile> {
  return openEdgeFile(path, skipBadLines);
}

/** Reads edges of byte range [start, end) (or Arrow batches) and indexes their ids locally. */
export async function loadPartition(
  path: string,
  start: number,
  end: number,
  skip: boolean,
): Promise<Partition> {
  const file = await edgeFile(path, skip);
  const { ends, ids } = await indexLocalEdges(edgeBlockChunks(file, { start, end }));
  return { ids: ids.ids.slice(), ends, degree: localDegrees(ends, ids.size) };
}

/** The partition's distinct ids and their local degrees (what the driver needs to number nodes). */
export function partitionIds(p: Partition): { ids: Float64Array; degree: Float64Array } {
  return { ids: p.ids, degree: p.degree };
}

/** The partition's edges as labels (`label` maps its local indices), in a new array. */
function labelled(p: Partition, label: Int32Array): Int32Array {
  const ends = new Int32Array(p.ends.length);
  for (let i = 0; i < ends.length; i++) ends[i] = label[p.ends[i]];
  return ends;
}

/** The partition's edges that each other row block needs, one pair list per block (its own empty). */
export function splitForRows(p: Partition, label: Int32Array, bounds: Int32Array, own: number): Int32Array[] {
  const ends = labelled(p, label);
  return partsFor(ends, 0, ends.length / 2, bounds, own);
}

/** One block's list out of splitForRows' result (a small task that runs where the split lives). */
export function pick(parts: Int32Array[], block: number): Int32Array {
  return parts[block];
}

/** Row block `block`, segmented: this partition's edges plus the lists other partitions sent. */
export function buildRows(
  p: Partition,
  label: Int32Array,
  bounds: Int32Array,
  block: number,
  ...others: Int32Array[]
): SegmentedRows {
  return segmentRows(csrOfRows([labelled(p, label), ...others], bounds[block], bounds[block + 1]));
}

/** One iteration's product for one row block: y = (A·c) restricted to the block's rows. */
export function multiply(rows: SegmentedRows, c: Float64Array): Float64Array {
  const y = new Float64Array(rows.rows);
  accumulateRows(rows, c, y);
  return y;
}

/** Paper mode: torch_ppr on one block of the file. */
export async function paperBlock(
  path: string,
  start: number,
  end: number,
  skip: boolean,
): Promise<BlockScores> {
  const file = await edgeFile(path, skip);
  const { src, dst } = await loadEdgeBlock(file, { start, end });
  return torchPageRank(src, dst);
}
