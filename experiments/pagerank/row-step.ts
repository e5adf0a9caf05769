/**
 * One power-iteration step over a rank's (or a block's) rows: the hot loop of global PageRank, over
 * typed arrays, allocating nothing.
 *
 * The rows go through `stepRows` in runs of ROWS_PER_CALL, not in one call: V8 optimizes the loop
 * early (on-stack) from partial type feedback and deoptimizes at the first branch it had not seen;
 * with one call over all rows, --trace-deopt on the 6.6 M-edge graph showed that bailout in
 * iteration 2 and no re-optimization in the 6 iterations after it. Short calls are re-optimized at
 * the next call (seen in the same trace).
 */
import type { Csr } from './csr.js';

const ROWS_PER_CALL = 1 << 14;

export interface StepParams {
  damping: number;
  /** (1-d)/N + d·dangling/N: the teleport and dangling share every row gets. */
  base: number;
  /** Label of the first row (rows are lo, lo+1, ...). */
  lo: number;
}

/** Running sums of one step: [L1 change, dangling mass]. */
const sums = new Float64Array(2);

/**
 * For every row r: v = d·Σ c[col] + base; l1 += |v - x[r]|; x[r] = v; out[r] = v·invDeg[lo + r].
 * Writes the block's L1 change and dangling mass (v of rows with invDeg 0) to out[len], out[len + 1].
 */
export function rowStep(
  csr: Csr,
  c: Float64Array,
  invDeg: Float64Array,
  x: Float64Array,
  out: Float64Array,
  p: StepParams,
): void {
  const len = csr.rowPtr.length - 1;
  sums[0] = 0;
  sums[1] = 0;
  for (let r = 0; r < len; r += ROWS_PER_CALL) {
    stepRows(
      csr.rowPtr,
      csr.col,
      c,
      invDeg,
      x,
      out,
      p.damping,
      p.base,
      p.lo,
      r,
      Math.min(len, r + ROWS_PER_CALL),
    );
  }
  out[len] = sums[0];
  out[len + 1] = sums[1];
}

function stepRows(
  rowPtr: Int32Array,
  col: Int32Array,
  c: Float64Array,
  invDeg: Float64Array,
  x: Float64Array,
  out: Float64Array,
  damping: number,
  base: number,
  lo: number,
  from: number,
  to: number,
): void {
  let l1 = 0;
  let dang = 0;
  let j = rowPtr[from];
  for (let r = from; r < to; r++) {
    // Two partial sums: the loads of c (cache misses, mostly) overlap better; measured 87 against
    // 104 ms per 13.2 M-entry product (four sums were slower again: 157 ms).
    const end = rowPtr[r + 1];
    const end1 = end - 1;
    let s0 = 0;
    let s1 = 0;
    while (j < end1) {
      s0 += c[col[j]];
      s1 += c[col[j + 1]];
      j += 2;
    }
    if (j < end) s0 += c[col[j++]];
    const v = damping * (s0 + s1) + base;
    l1 += Math.abs(v - x[r]);
    x[r] = v;
    const inv = invDeg[lo + r];
    if (inv === 0) dang += v;
    out[r] = v * inv;
  }
  sums[0] += l1;
  sums[1] += dang;
}
