/**
 * `--mode paper` in the pool style: one torch_ppr task per `blockBytes` block of the file (the seed's
 * Ray blocks), at most 2 × workers in flight. Each task reads its own byte range; the driver sums the
 * scores per id in block order (map() yields in input order, so the sums are the same on every run)
 * and normalises them, as rank 0 does in the SPMD style.
 */
import type { Pool } from '../../../src/pool/index.js';
import { ScoreSum } from '../kernels/score-sum.js';
import { type EdgeFile, edgeBlocks } from '../setup/edges.js';
import { EmptyGraphError } from '../setup/errors.js';
import type { PaperResult } from './paper-spmd.js';

const TASKS = new URL('./pool-tasks.ts', import.meta.url);

export async function paperPagerankPool(
  pool: Pool,
  file: EdgeFile,
  workers: number,
  opts: {
    blockBytes: number;
    top: number;
    file: string;
    skipBadLines: boolean;
    /** Called once the blocks are known, then per block as its result arrives (in block order). */
    onBlocks?: (blocks: number) => void;
    onBlock?: (iterations: number) => void;
  },
): Promise<PaperResult> {
  type T = typeof import('./pool-tasks.js');
  const block = pool.remote<T['paperBlock']>(TASKS, 'paperBlock');
  const blocks = edgeBlocks(file, opts.blockBytes);
  opts.onBlocks?.(blocks.length);
  const sums = new ScoreSum(1 << 16);
  let maxIterations = 0;
  let edges = 0;
  const argsList = blocks.map((b): [string, number, number, boolean] => [
    opts.file,
    b.start,
    b.end,
    opts.skipBadLines,
  ]);
  for await (const r of pool.map(block, argsList, { maxInFlight: 2 * workers })) {
    sums.add(r.ids, r.scores);
    if (r.iterations > maxIterations) maxIterations = r.iterations;
    edges += r.edges;
    opts.onBlock?.(r.iterations);
  }
  if (edges === 0) throw new EmptyGraphError(opts.file);
  return { edges, blocks: blocks.length, maxIterations, ...sums.normalisedTop(opts.top) };
}
