/**
 * Blocks of the input, the unit of work of both k-means modes: fixed byte ranges of a CSV file
 * (`--block-mb`, default 20 MiB, aligned to line ends by the reader) or the record batches of an
 * Arrow IPC file. Blocks depend only on the file, never on the number of ranks or workers.
 */

import { inspectArrow } from '../../../src/data/arrow-ipc.js';
import type { CsvInfo } from '../../../src/data/index.js';
import {
  fixedBlocks,
  inspectCsv,
  isArrowFile,
  loadCsvRange,
  readArrowChunks,
} from '../../../src/data/index.js';

export type Block = { kind: 'csv'; start: number; end: number } | { kind: 'arrow'; index: number };

export interface BlockInput {
  path: string;
  blocks: Block[];
  /** CSV only: the header/dtype inspection shared by every block read. */
  csv?: CsvInfo;
  skipBadLines: boolean;
}

/** Lists the blocks of `path` (CSV or Arrow IPC, told apart by the Arrow magic bytes). */
export async function listBlocks(
  path: string,
  blockBytes: number,
  skipBadLines = false,
): Promise<BlockInput> {
  if (await isArrowFile(path)) {
    const { batches, names } = await inspectArrow(path);
    if (names.length < 2)
      throw new Error(`${path}: k-means needs 2 columns, the Arrow file has ${names.length}`);
    return {
      path,
      blocks: Array.from({ length: batches }, (_, index) => ({ kind: 'arrow', index })),
      skipBadLines,
    };
  }
  const csv = await inspectCsv(path, 'float64');
  if (csv.names.length !== 2) {
    throw new Error(
      `${path}: k-means needs a 2-column CSV (x,y or node1,node2), found ${csv.names.length} columns`,
    );
  }
  // Whole bytes: --block-mb 0.02 gives a fractional size, and byte offsets must be integers.
  const blocks: Block[] = fixedBlocks(csv.size, Math.max(1, Math.floor(blockBytes))).map((r) => ({
    kind: 'csv',
    ...r,
  }));
  return { path, blocks, csv, skipBadLines };
}

/** Where one block's reader finds it: the input without its block list (what a pool task receives). */
export type BlockFile = Omit<BlockInput, 'blocks'>;

/** The input without its block list, small enough to send with every task. */
export function blockFile(input: BlockInput): BlockFile {
  return { path: input.path, csv: input.csv, skipBadLines: input.skipBadLines };
}

/** The block's rows as two columns (fresh arrays the caller may modify). */
export async function loadBlock(
  input: BlockFile,
  block: Block,
): Promise<{ x: Float64Array; y: Float64Array }> {
  if (block.kind === 'arrow') {
    for await (const ch of readArrowChunks(input.path, { lo: block.index, hi: block.index + 1 })) {
      return { x: Float64Array.from(ch.columns[0]), y: Float64Array.from(ch.columns[1]) };
    }
    return { x: new Float64Array(0), y: new Float64Array(0) };
  }
  const ch = await loadCsvRange(input.path, {
    range: { start: block.start, end: block.end },
    info: input.csv,
    skipBadLines: input.skipBadLines,
  });
  return { x: ch.columns[0], y: ch.columns[1] };
}
