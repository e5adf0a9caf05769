/**
 * Sparse 0/1 rows stored segment by segment over the columns ("CSR segmenting", after Zhang et al.,
 * "Making caches work for graph analytics", 2017): the product A·c runs over one segment of columns
 * at a time, so the part of c it reads at random (2^SEGMENT_SHIFT values, 4 MiB) stays in cache, and
 * each (segment, row) pair adds its partial sum to the row's accumulator, visiting rows in increasing
 * order. On the 1 GB-class graph (11 M nodes, c = 88 MB) a rank's product took 1.2 s as plain CSR
 * and 0.32 s segmented (78.6 M entries, 1.0 M rows); on the 6.6 M-edge graph (c = 8 MB) 42–66 ms
 * against 33 ms.
 *
 * Pairs of all segments are concatenated in segment order, so the product is one pass over pairRow,
 * pairEnd and col.
 */
import type { Csr } from './csr.js';

/** log2 of the columns per segment: 2^19 float64 values = 4 MiB, a share of the 32 MiB L3 here. */
const SEGMENT_SHIFT = 19;

const PAIRS_PER_CALL = 1 << 14;

export interface SegmentedRows {
  rows: number;
  segments: number;
  /** Row of each (segment, row) pair; increasing within a segment. */
  pairRow: Int32Array;
  /** Pair k's columns are col[pairEnd[k-1] .. pairEnd[k]) (from 0 for k = 0). */
  pairEnd: Int32Array;
  col: Int32Array;
}

/**
 * The same rows as `csr`, regrouped by column segment with two counting passes (no sort). Each row's
 * columns keep their order within a segment.
 */
export function segmentRows(csr: Csr, shift = SEGMENT_SHIFT): SegmentedRows {
  const { rowPtr, col } = csr;
  const rows = rowPtr.length - 1;
  let maxCol = 0;
  for (let j = 0; j < col.length; j++) if (col[j] > maxCol) maxCol = col[j];
  const segments = (maxCol >> shift) + 1;
  if (segments === 1) return wholeRows(csr);
  const entryStart = new Int32Array(segments + 1);
  const pairStart = new Int32Array(segments + 1);
  // lastRow[s]: the last row that had an entry in segment s, to count each (segment, row) pair once.
  const lastRow = new Int32Array(segments).fill(-1);
  for (let r = 0; r < rows; r++) {
    for (let j = rowPtr[r]; j < rowPtr[r + 1]; j++) {
      const s = col[j] >> shift;
      entryStart[s + 1]++;
      if (lastRow[s] !== r) {
        lastRow[s] = r;
        pairStart[s + 1]++;
      }
    }
  }
  for (let s = 0; s < segments; s++) {
    entryStart[s + 1] += entryStart[s];
    pairStart[s + 1] += pairStart[s];
  }
  const pairs = pairStart[segments];
  const pairRow = new Int32Array(pairs);
  const pairEnd = new Int32Array(pairs);
  const out = new Int32Array(col.length);
  lastRow.fill(-1);
  for (let r = 0; r < rows; r++) {
    for (let j = rowPtr[r]; j < rowPtr[r + 1]; j++) {
      const v = col[j];
      const s = v >> shift;
      if (lastRow[s] !== r) {
        lastRow[s] = r;
        pairRow[pairStart[s]++] = r;
      }
      out[entryStart[s]++] = v;
      pairEnd[pairStart[s] - 1] = entryStart[s];
    }
  }
  return { rows, segments, pairRow, pairEnd, col: out };
}

/**
 * All columns as one segment: the CSR itself, its column array shared, one pair per non-empty row. For
 * products whose vector fits in cache anyway (paper mode's per-block graphs), where regrouping would
 * only cost a copy.
 */
export function wholeRows(csr: Csr): SegmentedRows {
  const { rowPtr, col } = csr;
  const rows = rowPtr.length - 1;
  let pairs = 0;
  for (let r = 0; r < rows; r++) if (rowPtr[r + 1] > rowPtr[r]) pairs++;
  const pairRow = new Int32Array(pairs);
  const pairEnd = new Int32Array(pairs);
  let k = 0;
  for (let r = 0; r < rows; r++) {
    if (rowPtr[r + 1] > rowPtr[r]) {
      pairRow[k] = r;
      pairEnd[k++] = rowPtr[r + 1];
    }
  }
  // Pair k's entries start at pairEnd[k-1] (0 for the first): a CSR whose first row starts past 0 is a
  // view this layout cannot express.
  if (rowPtr[0] !== 0) throw new RangeError(`CSR rows start at ${rowPtr[0]}, not 0`);
  return { rows, segments: 1, pairRow, pairEnd, col };
}

/** acc[r] += Σ c[col] over row r's entries: one product with unit weights, added to `acc`. */
export function accumulateRows(seg: SegmentedRows, c: Float64Array, acc: Float64Array): void {
  const pairs = seg.pairRow.length;
  // Calls of PAIRS_PER_CALL pairs, not one long call: see row-step.ts on V8's on-stack optimization.
  for (let k = 0; k < pairs; k += PAIRS_PER_CALL) {
    accumulatePairs(seg.pairRow, seg.pairEnd, seg.col, c, acc, k, Math.min(pairs, k + PAIRS_PER_CALL));
  }
}

function accumulatePairs(
  pairRow: Int32Array,
  pairEnd: Int32Array,
  col: Int32Array,
  c: Float64Array,
  acc: Float64Array,
  from: number,
  to: number,
): void {
  let j = from === 0 ? 0 : pairEnd[from - 1];
  for (let k = from; k < to; k++) {
    // Two partial sums: the loads of c overlap better (87 against 104 ms per 13.2 M entries as CSR).
    const end = pairEnd[k];
    const end1 = end - 1;
    let s0 = 0;
    let s1 = 0;
    while (j < end1) {
      s0 += c[col[j]];
      s1 += c[col[j + 1]];
      j += 2;
    }
    if (j < end) s0 += c[col[j++]];
    acc[pairRow[k]] += s0 + s1;
  }
}
