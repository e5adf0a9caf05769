/**
 * The undirected adjacency of a set of edges as CSR rows keyed by destination: every edge (a, b)
 * gives the entries a←b and b←a, so a self-loop counts twice, as in A + Aᵀ. Rows are built with a
 * counting sort (two passes over the edges, no comparison sort); segmented-rows.ts regroups them for
 * the product.
 */

export interface Csr {
  /** Row r's sources are col[rowPtr[r] .. rowPtr[r+1]). Length rows + 1. */
  rowPtr: Int32Array;
  col: Int32Array;
}

/**
 * Builds the CSR of `rows` rows from `ends` = [a0, b0, a1, b1, ...] (dense indices < rows).
 * Entry counts must stay below 2^31 (one rank's share of edges, times two).
 */
export function buildCsr(ends: Int32Array, rows: number): Csr {
  if (ends.length % 2 !== 0) throw new RangeError(`edge end list has odd length ${ends.length}`);
  if (ends.length >= 2 ** 31) throw new RangeError(`${ends.length / 2} edges exceed one CSR (2^30 edges)`);
  const rowPtr = new Int32Array(rows + 1);
  for (let i = 0; i < ends.length; i++) rowPtr[ends[i] + 1]++;
  for (let r = 0; r < rows; r++) rowPtr[r + 1] += rowPtr[r];
  const fill = rowPtr.slice(0, rows);
  const col = new Int32Array(ends.length);
  for (let i = 0; i < ends.length; i += 2) {
    const a = ends[i];
    const b = ends[i + 1];
    col[fill[a]++] = b;
    col[fill[b]++] = a;
  }
  return { rowPtr, col };
}

/** Entries per row (the row's local degree) as doubles. */
export function rowCounts(csr: Csr): Float64Array {
  const rows = csr.rowPtr.length - 1;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) out[r] = csr.rowPtr[r + 1] - csr.rowPtr[r];
  return out;
}
