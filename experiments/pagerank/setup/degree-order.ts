/**
 * Relabels nodes by descending degree (ties by old index). The product y = A·c reads c at random, one
 * read per edge end; in a power-law graph most ends belong to a few hubs, and numbering those first
 * packs the hot part of c into a few hundred KiB that stay in cache. Measured on a 6.6 M-edge
 * generated graph (best CPU time of 8 products): 71 ms against 83 ms with hash-order labels.
 * Counting sort: O(N + max degree), no comparison sort.
 */

/** perm[old] = new index, hubs first. Every rank computes the same perm from the same degrees. */
export function degreeOrder(deg: Float64Array): Int32Array {
  const n = deg.length;
  let max = 0;
  for (let i = 0; i < n; i++) if (deg[i] > max) max = deg[i];
  // start[d] = first new index of degree d, highest degrees first.
  const start = new Float64Array(max + 2);
  for (let i = 0; i < n; i++) start[max - deg[i] + 1]++;
  for (let d = 1; d <= max + 1; d++) start[d] += start[d - 1];
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = start[max - deg[i]]++;
  return perm;
}
