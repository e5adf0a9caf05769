/**
 * Edge input of both PageRank modes: the seed's CSV (`node1,node2`, int64 ids) or an Arrow IPC file
 * with two id columns. Ids arrive as doubles, exact up to 2^53 (the CSV reader rejects larger ones).
 * A reader of a share streams chunks, so no rank ever holds the file's raw columns whole.
 */
import {
  type CsvInfo,
  EmptyCsvError,
  fixedBlocks,
  inspectArrow,
  inspectCsv,
  isArrowFile,
  readArrowChunks,
  readCsvChunks,
  shareOfRange,
} from '../../../src/data/index.js';
import { EdgeListError, EmptyGraphError } from './errors.js';

export interface EdgeChunk {
  src: Float64Array;
  dst: Float64Array;
}

export interface EdgeFile {
  path: string;
  /** CSV inspection; undefined for Arrow input. */
  csv?: CsvInfo;
  /** Arrow input: number of record batches. */
  batches: number;
  /** File size in bytes (CSV) — the unit of byte-range shares and blocks. */
  size: number;
  skipBadLines: boolean;
}

/** Inspects `path` and checks it is a two-column edge list. */
export async function openEdgeFile(path: string, skipBadLines = false): Promise<EdgeFile> {
  if (await isArrowFile(path).catch(() => false)) {
    const { batches, names } = await inspectArrow(path);
    if (names.length !== 2)
      throw new EdgeListError(`${path}: an edge list needs 2 id columns, the Arrow file has ${names.length}`);
    return { path, batches, size: 0, skipBadLines };
  }
  let csv: CsvInfo;
  try {
    csv = await inspectCsv(path, 'int64');
  } catch (err) {
    if (err instanceof EmptyCsvError) throw new EmptyGraphError(path);
    throw err;
  }
  if (csv.names.length !== 2) {
    throw new EdgeListError(
      `${path}: an edge list needs 2 columns (node1,node2), the first line has ${csv.names.length}`,
    );
  }
  return { path, csv, batches: 0, size: csv.size, skipBadLines };
}

/** Rank `rank` of `size`'s share of the edges (a byte range or a run of batches), as chunks. */
export async function* readEdgeShare(file: EdgeFile, rank: number, size: number): AsyncGenerator<EdgeChunk> {
  if (file.csv === undefined) {
    for await (const ch of readArrowChunks(file.path, { rank, size })) {
      yield { src: ch.columns[0], dst: ch.columns[1] };
    }
    return;
  }
  const range = shareOfRange({ start: 0, end: file.size }, rank, size);
  yield* readCsvRange(file, range.start, range.end);
}

async function* readCsvRange(file: EdgeFile, start: number, end: number): AsyncGenerator<EdgeChunk> {
  const opts = { range: { start, end }, info: file.csv, skipBadLines: file.skipBadLines };
  for await (const ch of readCsvChunks(file.path, opts)) {
    yield { src: ch.columns[0], dst: ch.columns[1] };
  }
}

/** Fixed byte blocks (CSV) or record batches (Arrow): the pool's paper-mode unit of work. */
export function edgeBlocks(file: EdgeFile, blockBytes: number): { start: number; end: number }[] {
  if (file.csv === undefined)
    return Array.from({ length: file.batches }, (_, i) => ({ start: i, end: i + 1 }));
  // Whole bytes: a fractional --block-mb would give fractional offsets the reader cannot align.
  return fixedBlocks(file.size, Math.max(1, Math.round(blockBytes)));
}

/** One block's edges as chunks (a byte range of a CSV, or batches [start, end) of an Arrow file). */
export async function* edgeBlockChunks(
  file: EdgeFile,
  block: { start: number; end: number },
): AsyncGenerator<EdgeChunk> {
  if (file.csv === undefined) {
    for await (const ch of readArrowChunks(file.path, { lo: block.start, hi: block.end })) {
      yield { src: ch.columns[0], dst: ch.columns[1] };
    }
  } else yield* readCsvRange(file, block.start, block.end);
}

/** One block's edges in full. */
export async function loadEdgeBlock(
  file: EdgeFile,
  block: { start: number; end: number },
): Promise<EdgeChunk> {
  const parts: EdgeChunk[] = [];
  for await (const ch of edgeBlockChunks(file, block)) parts.push(ch);
  return concatEdges(parts);
}

/** Concatenates chunks into one pair of columns. */
export function concatEdges(parts: EdgeChunk[]): EdgeChunk {
  if (parts.length === 1) return parts[0];
  const total = parts.reduce((s, p) => s + p.src.length, 0);
  const src = new Float64Array(total);
  const dst = new Float64Array(total);
  let at = 0;
  for (const p of parts) {
    src.set(p.src, at);
    dst.set(p.dst, at);
    at += p.src.length;
  }
  return { src, dst };
}
