/**
 * Which rank owns which rows of the relabelled adjacency. Rows are split into contiguous label ranges
 * so that one all-gather of the owners' slices rebuilds the whole vector each iteration; the labels
 * deal the nodes out so that the ranges hold equal work (labelRows).
 */
import { degreeOrder } from './degree-order.js';

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
 * What both styles derive from the global degrees (by global index): the labels (perm[index] = label),
 * 1/degree by label (0 marks a dangling node) and the row ranges of `parts` owners. Nodes are dealt to
 * the parts in hub-first order, as cards: the k-th highest degree goes to part k mod parts, and each
 * part numbers its nodes hub-first from its range's start. Every part then holds the same spread of
 * degrees, so entries, (segment, row) pairs, rows and the slice each rank sends are all balanced at
 * once. (Contiguous hub-first ranges balanced by a cost model left the last rank, holding ~9 M of the
 * 11 M nodes of the 1 GB-class graph, 0.8 s per product against rank 0's 0.55 s, whatever the model:
 * its cost followed its accumulator's size, not its share of entries.)
 */
export function labelRows(
  deg: Float64Array,
  parts: number,
): { perm: Int32Array; invDeg: Float64Array; bounds: Int32Array } {
  const n = deg.length;
  const order = degreeOrder(deg);
  const bounds = new Int32Array(parts + 1);
  for (let p = 0; p < parts; p++) bounds[p + 1] = bounds[p] + Math.max(0, Math.ceil((n - p) / parts));
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = order[i];
    perm[i] = bounds[k % parts] + Math.floor(k / parts);
  }
  const invDeg = new Float64Array(n);
  for (let i = 0; i < n; i++) invDeg[perm[i]] = deg[i] > 0 ? 1 / deg[i] : 0;
  return { perm, invDeg, bounds };
}
