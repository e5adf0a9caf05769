/**
 * `--mode paper` over ranks: a rank clusters whole blocks of its share of the file's fixed blocks (so a
 * block's score does not depend on the rank count); the scores are all-gathered and averaged in block
 * order.
 */
import { type BlockResult, clusterBlock } from '../kernels/block-kmeans.js';
import { type BlockInput, loadBlock } from '../setup/blocks.js';
import type { Gather } from './global-spmd.js';

/** A paper-mode run's result: its JSON fields. */
export interface PaperResult {
  rows: number;
  blocks: number;
  /** Mean of the blocks' scores, summed in block order. */
  calinski_harabasz: number;
}

export interface PaperOptions {
  k: number;
  seed: number;
  maxIter: number;
  tol: number;
  /** Called as each block is clustered (block index, its result). */
  onBlock?: (block: number, r: BlockResult) => void;
}

/** Clusters blocks [lo, hi) of `input` (this rank's share) and averages every rank's scores. */
export async function paperKmeansSpmd(
  gather: Gather,
  input: BlockInput,
  share: { lo: number; hi: number },
  opts: PaperOptions,
): Promise<PaperResult> {
  const { lo, hi } = share;
  // Per block: [score, rows, iterations]; gathered in rank order = block order.
  const mine = new Float64Array(3 * (hi - lo));
  for (let b = lo; b < hi; b++) {
    const { x, y } = await loadBlock(input, input.blocks[b]);
    const r = clusterBlock(x, y, opts.k, opts.seed, opts.maxIter, opts.tol);
    mine.set([r.score, r.rows, r.iterations], 3 * (b - lo));
    opts.onBlock?.(b, r);
  }
  const all = await gather(mine);
  let sum = 0;
  let rows = 0;
  let blocks = 0;
  for (const part of all) {
    for (let o = 0; o < part.length; o += 3) {
      sum += part[o];
      rows += part[o + 1];
      blocks++;
    }
  }
  return { rows, blocks, calinski_harabasz: sum / blocks };
}
