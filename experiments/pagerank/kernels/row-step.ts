/**
 * One power-iteration step over a rank's (or a block's) rows: the hot loop of global PageRank, over
 * typed arrays, allocating nothing. The product runs segment by segment (segmented-rows.ts) into an
 * accumulator; the update then walks the rows once, in order.
 *
 * Loops run in calls of ROWS_PER_CALL rows, not one call: V8 optimizes a loop early (on-stack) from
 * partial type feedback and deoptimizes at the first branch it had not seen; with one call over all
 * rows, --trace-deopt on the 6.6 M-edge graph showed that bailout in iteration 2 and no
 * re-optimization in the 6 iterations after it. Short calls are re-optimized at the next call.
 */
import { chebyshevUpdate, type StepWeights } from './chebyshev.js';
import { accumulateRows, type SegmentedRows } from './segmented-rows.js';

const ROWS_PER_CALL = 1 << 14;

export interface StepParams {
  damping: number;
  /** (1-d)/N + d·dangling/N: the teleport and dangling share every row gets. */
  base: number;
  /** Label of the first row (rows are lo, lo+1, ...). */
  lo: number;
  /** Chebyshev weights of this step (chebyshev.ts); ω = γ = 1 is a plain power step. */
  weights: StepWeights;
}

/** Running sums of one step: [L1 change, dangling mass]. */
const sums = new Float64Array(2);

/**
 * For every row r: p = d·Σ c[col] + base (the power step); v = chebyshevUpdate(p, x[r], xPrev[r]);
 * l1 += |v − x[r]|; xPrev[r] = x[r]; x[r] = v; out[r] = v·invDeg[lo + r].
 * Writes the block's L1 change and dangling mass (v of rows with invDeg 0) to out[len], out[len + 1].
 * `acc` (one value per row) must hold zeros; it is left holding zeros.
 */
export function rowStep(
  rows: SegmentedRows,
  c: Float64Array,
  invDeg: Float64Array,
  x: Float64Array,
  xPrev: Float64Array,
  acc: Float64Array,
  out: Float64Array,
  p: StepParams,
): void {
  const len = rows.rows;
  accumulateRows(rows, c, acc);
  const [l1, dangling] = updateBlock(acc, invDeg, x, xPrev, out, p, len);
  out[len] = l1;
  out[len + 1] = dangling;
}

/**
 * The update half of a step, over rows 0..len-1 whose products are in `acc` (left holding zeros):
 * v = chebyshevUpdate(d·acc[r] + base, x[r], xPrev[r]); xPrev[r] = x[r]; x[r] = v;
 * out[r] = v·invDeg[lo + r]. Returns [L1 change, dangling mass] of the rows (a shared array: read it
 * before the next call). The pool's driver runs it on each block's returned products.
 */
export function updateBlock(
  acc: Float64Array,
  invDeg: Float64Array,
  x: Float64Array,
  xPrev: Float64Array,
  out: Float64Array,
  p: StepParams,
  len: number,
): Float64Array {
  sums[0] = 0;
  sums[1] = 0;
  for (let r = 0; r < len; r += ROWS_PER_CALL) {
    updateRows(acc, invDeg, x, xPrev, out, p, r, Math.min(len, r + ROWS_PER_CALL));
  }
  return sums;
}

function updateRows(
  acc: Float64Array,
  invDeg: Float64Array,
  x: Float64Array,
  xPrev: Float64Array,
  out: Float64Array,
  p: StepParams,
  from: number,
  to: number,
): void {
  const { damping, base, lo, weights } = p;
  let l1 = 0;
  let dang = 0;
  for (let r = from; r < to; r++) {
    const prev = xPrev[r];
    const old = x[r];
    const v = chebyshevUpdate(damping * acc[r] + base, old, prev, weights);
    acc[r] = 0;
    l1 += Math.abs(v - old);
    xPrev[r] = old;
    x[r] = v;
    const inv = invDeg[lo + r];
    if (inv === 0) dang += v;
    out[r] = v * inv;
  }
  sums[0] += l1;
  sums[1] += dang;
}
