/**
 * Which rank owns which rows of the (relabelled, hub-first) adjacency. Rows are split into contiguous
 * label ranges so that one all-gather of the owners' slices rebuilds the whole vector each iteration.
 * The split balances work, not rows: with hubs first an even split by rows would give rank 0 most of
 * the entries, and an even split by entries would give the last rank most of the (costlier) pairs.
 */
import { degreeOrder } from './degree-order.js';
import { SEGMENT_SHIFT } from './segmented-rows.js';

/**
 * The cost of a row in the segmented product (segmented-rows.ts), in units of one entry: its entries,
 * PAIR_COST per (segment, row) pair (the pair's row, end and accumulator update: about min(deg,
 * segments) pairs, since a row's entries mostly fall in different segments unless it has more entries
 * than there are segments) and ROW_COST for the update. Fitted to the two ranks of the 1 GB-class
 * graph: 78.6 M entries in 12.2 M pairs took 320 ms, 60.6 M entries in 36 M pairs 490 ms, and the
 * update of 10 M rows 15 ms (2.65 ms per M entries, 9.2 per M pairs, 1.5 per M rows).
 */
const PAIR_COST = 3.5;
const ROW_COST = 0.6;

/**
 * bounds[r] .. bounds[r+1] is rank r's row range; bounds[0] = 0, bounds[size] = n. `degByLabel[v]` is
 * the number of entries of row v. Every rank computes the same bounds from the same degrees.
 */
export function rowBounds(degByLabel: Float64Array, size: number): Int32Array {
  const n = degByLabel.length;
  const segments = ((Math.max(n, 1) - 1) >> SEGMENT_SHIFT) + 1;
  const cost = (d: number): number => d + PAIR_COST * Math.min(d, segments) + ROW_COST;
  let total = 0;
  for (let v = 0; v < n; v++) total += cost(degByLabel[v]);
  const bounds = new Int32Array(size + 1);
  bounds[size] = n;
  let acc = 0;
  let r = 1;
  for (let v = 0; v < n && r < size; v++) {
    acc += cost(degByLabel[v]);
    while (r < size && acc >= (total * r) / size) bounds[r++] = v + 1;
  }
  for (; r < size; r++) bounds[r] = n;
  return bounds;
}

/** The rank whose range holds `v` (binary search; bounds has size + 1 entries). */
export function ownerOfRow(bounds: Int32Array, v: number): number {
  let lo = 0;
  let hi = bounds.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (bounds[mid] <= v) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * What both styles derive from the global degrees (by global index): hub-first labels (perm[index] =
 * label), 1/degree by label (0 marks a dangling node) and the row ranges of `parts` owners.
 */
export function labelRows(
  deg: Float64Array,
  parts: number,
): { perm: Int32Array; invDeg: Float64Array; bounds: Int32Array } {
  const perm = degreeOrder(deg);
  const degByLabel = new Float64Array(deg.length);
  for (let i = 0; i < deg.length; i++) degByLabel[perm[i]] = deg[i];
  const invDeg = degByLabel.map((d) => (d > 0 ? 1 / d : 0));
  return { perm, invDeg, bounds: rowBounds(degByLabel, parts) };
}
