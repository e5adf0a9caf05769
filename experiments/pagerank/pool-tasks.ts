/**
 * Remote functions of pool.ts (named by this module's URL + export name, so every worker imports the
 * same code). Partitions and their CSRs are task results that stay in the producing worker's object
 * store; the driver passes their refs back, and the pool's locality-aware scheduler runs each
 * iteration's product on the worker that holds the partition (its largest argument).
 */
import { buildCsr, type Csr, gatherRows } from './csr.js';
import { type EdgeFile, loadEdgeBlock, openEdgeFile } from './edges.js';
import { IdIndex } from './id-index.js';
import { type BlockScores, torchPageRank } from './torch-ppr.js';

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
  const { src, dst } = await loadEdgeBlock(file, { start, end });
  const idx = new IdIndex(1 << 16);
  const ends = new Int32Array(2 * src.length);
  for (let i = 0; i < src.length; i++) {
    ends[2 * i] = idx.insert(src[i]);
    ends[2 * i + 1] = idx.insert(dst[i]);
  }
  const degree = new Float64Array(idx.size);
  for (let i = 0; i < ends.length; i++) degree[ends[i]]++;
  return { ids: idx.ids.slice(), ends, degree };
}

/** The partition's distinct ids and their local degrees (what the driver needs to number nodes). */
export function partitionIds(p: Partition): { ids: Float64Array; degree: Float64Array } {
  return { ids: p.ids, degree: p.degree };
}

/** The partition's CSR over all `nodes` nodes, with local indices relabelled by `label`. */
export function buildPartitionCsr(p: Partition, label: Int32Array, nodes: number): Csr {
  const ends = new Int32Array(p.ends.length);
  for (let i = 0; i < ends.length; i++) ends[i] = label[p.ends[i]];
  return buildCsr(ends, nodes);
}

/** One iteration's product for one partition: y = A_p · c over all nodes. */
export function multiply(csr: Csr, c: Float64Array): Float64Array {
  const y = new Float64Array(c.length);
  gatherRows(csr, c, y);
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
