/**
 * `--mode paper`: torch_ppr's `page_rank(edge_index=...)` on one block of edges, as the seed called it.
 * torch_ppr builds A + Aᵀ from the edge list (duplicates add up), normalises columns to sum 1, starts
 * from the uniform x₀ and iterates x ← (1-α)·A·x + α·x₀ (α = 0.05), renormalising x to L1 norm 1,
 * until the largest absolute change is ≤ ε (1e-4) or after 1000 iterations. torch computes in
 * float32 by default; this runs in float64 (differences are far below the 1e-4 stopping tolerance).
 */
import { buildCsr, rowCounts } from './csr.js';
import { IdIndex } from './id-index.js';
import { accumulateRows, wholeRows } from './segmented-rows.js';

export interface TorchPprOptions {
  alpha?: number;
  epsilon?: number;
  maxIter?: number;
}

export interface BlockScores {
  /** The block's distinct node ids, in first-seen order. */
  ids: Float64Array;
  /** Each id's score in this block (sums to 1). */
  scores: Float64Array;
  iterations: number;
  /** Edges in the block. */
  edges: number;
}

/** Page rank of the block whose edges are (src[i], dst[i]), scores per original id. */
export function torchPageRank(src: Float64Array, dst: Float64Array, opts: TorchPprOptions = {}): BlockScores {
  const { alpha = 0.05, epsilon = 1e-4, maxIter = 1000 } = opts;
  const m = Math.min(src.length, dst.length);
  const index = new IdIndex(Math.max(16, m));
  const ends = new Int32Array(2 * m);
  for (let i = 0; i < m; i++) {
    ends[2 * i] = index.insert(src[i]);
    ends[2 * i + 1] = index.insert(dst[i]);
  }
  const n = index.size;
  const ids = index.ids.slice();
  if (n === 0) return { ids, scores: new Float64Array(0), iterations: 0, edges: m };
  const csr = buildCsr(ends, n);
  const invDeg = rowCounts(csr);
  const rows = wholeRows(csr);
  for (let i = 0; i < n; i++) invDeg[i] = 1 / invDeg[i];
  let x = new Float64Array(n).fill(1 / n);
  let next = new Float64Array(n);
  const c = new Float64Array(n);
  const beta = 1 - alpha;
  const teleport = alpha / n;
  let iterations = 0;
  while (iterations < maxIter) {
    iterations++;
    for (let i = 0; i < n; i++) c[i] = x[i] * invDeg[i];
    next.fill(0);
    accumulateRows(rows, c, next);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const v = beta * next[i] + teleport;
      next[i] = v;
      sum += v;
    }
    let diff = 0;
    for (let i = 0; i < n; i++) {
      const v = next[i] / sum;
      next[i] = v;
      const d = Math.abs(v - x[i]);
      if (d > diff) diff = d;
    }
    const t = x;
    x = next;
    next = t;
    if (!(diff > epsilon)) break;
  }
  return { ids, scores: x, iterations, edges: m };
}
