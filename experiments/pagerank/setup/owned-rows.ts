/**
 * The CSR of the rows a rank owns, over the edges of all ranks. Each rank starts with its own share of
 * edges (relabelled ends); an edge goes once to every other rank that owns one of its ends, which adds
 * the entries of its own rows (a←b for an owned a, b←a for an owned b). The rank's own edges are used
 * in place, not sent to itself, so the only copies are the edges that cross ranks.
 *
 * The exchange runs in rounds of at most ROUND_EDGES edges per rank, so the send buffers (and the
 * all-to-all's private copies of them) stay small next to the edge list itself.
 */
import type { Csr } from '../kernels/csr.js';
import type { PagerankComm } from './comm.js';
import { ownerOfRow } from './row-blocks.js';

const ROUND_EDGES = 1 << 22;

/**
 * Edges [from, to) of `ends` that each other rank needs (an end in its rows), as [a, b] pairs, one list
 * per rank; the list for `rank` itself stays empty (pass -1 to split for every rank).
 */
export function partsFor(
  ends: Int32Array,
  from: number,
  to: number,
  bounds: Int32Array,
  rank: number,
): Int32Array[] {
  const size = bounds.length - 1;
  const counts = new Int32Array(size);
  for (let e = from; e < to; e++) {
    const oa = ownerOfRow(bounds, ends[2 * e]);
    const ob = ownerOfRow(bounds, ends[2 * e + 1]);
    if (oa !== rank) counts[oa]++;
    if (ob !== rank && ob !== oa) counts[ob]++;
  }
  const parts = Array.from({ length: size }, (_, r) => new Int32Array(2 * counts[r]));
  const fill = new Int32Array(size);
  for (let e = from; e < to; e++) {
    const a = ends[2 * e];
    const b = ends[2 * e + 1];
    const oa = ownerOfRow(bounds, a);
    const ob = ownerOfRow(bounds, b);
    if (oa !== rank) {
      const p = parts[oa];
      p[fill[oa]++] = a;
      p[fill[oa]++] = b;
    }
    if (ob !== rank && ob !== oa) {
      const p = parts[ob];
      p[fill[ob]++] = a;
      p[fill[ob]++] = b;
    }
  }
  return parts;
}

/** Sends every crossing edge to the ranks that need it; returns the pair lists received. */
async function exchangeEdges(
  comm: PagerankComm,
  ends: Int32Array,
  bounds: Int32Array,
): Promise<Int32Array[]> {
  const m = ends.length / 2;
  // All ranks must run the same number of all-to-alls.
  const rounds = (await comm.allReduce(Float64Array.of(Math.ceil(m / ROUND_EDGES)), 'max'))[0];
  const received: Int32Array[] = [];
  for (let k = 0; k < rounds; k++) {
    const from = Math.min(m, k * ROUND_EDGES);
    const to = Math.min(m, from + ROUND_EDGES);
    const got = await comm.allToAll(partsFor(ends, from, to, bounds, comm.rank));
    got.forEach((g, src) => {
      if (src !== comm.rank && g.length > 0) received.push(g);
    });
  }
  return received;
}

/**
 * Rows [bounds[rank], bounds[rank+1]) of the undirected adjacency, row indices relative to the range
 * start, columns global labels. `ends` holds this rank's edges as labels; `invDeg` (1/degree by label)
 * gives the row lengths.
 */
export async function buildOwnedRows(
  comm: PagerankComm,
  ends: Int32Array,
  bounds: Int32Array,
  invDeg: Float64Array,
): Promise<Csr> {
  const received = comm.size > 1 ? await exchangeEdges(comm, ends, bounds) : [];
  return csrOfRows([ends, ...received], bounds[comm.rank], bounds[comm.rank + 1], invDeg);
}

/**
 * Rows [lo, hi) (relative to lo) made by the pair lists `sources` (labels, [a0, b0, a1, b1, ...]).
 * A row of the undirected adjacency has exactly as many entries as its node's degree, so with `invDeg`
 * (1/degree by label) the row lengths need no counting pass over every end (1.8–2.0 s of a rank's
 * setup on the 1 GB-class graph); without it (a pool worker, which has no degrees) they are counted.
 */
export function csrOfRows(sources: Int32Array[], lo: number, hi: number, invDeg?: Float64Array): Csr {
  const rows = hi - lo;
  const rowPtr = invDeg ? rowPtrOfDegrees(invDeg, lo, hi) : countedRowPtr(sources, lo, hi);
  const fill = rowPtr.slice(0, rows);
  const col = new Int32Array(rowPtr[rows]);
  for (const s of sources) fillOwned(s, lo, hi, fill, col);
  if (invDeg) {
    // Degrees that disagreed with the edges would have spilled entries into the next row unnoticed.
    for (let r = 0; r < rows; r++) {
      if (fill[r] !== rowPtr[r + 1]) {
        throw new Error(
          `internal: row ${lo + r} got ${fill[r] - rowPtr[r]} entries, its degree is ${rowPtr[r + 1] - rowPtr[r]}`,
        );
      }
    }
  }
  return { rowPtr, col };
}

function countedRowPtr(sources: Int32Array[], lo: number, hi: number): Int32Array {
  const rowPtr = new Int32Array(hi - lo + 1);
  for (const s of sources) countOwned(s, lo, hi, rowPtr);
  return rowStarts(rowPtr);
}

/** Row starts from the degrees: 1/(1/d) rounds back to the integer d exactly. */
function rowPtrOfDegrees(invDeg: Float64Array, lo: number, hi: number): Int32Array {
  const rowPtr = new Int32Array(hi - lo + 1);
  for (let r = 0; r < hi - lo; r++) {
    const inv = invDeg[lo + r];
    rowPtr[r + 1] = inv > 0 ? Math.round(1 / inv) : 0;
  }
  return rowStarts(rowPtr);
}

/** rowPtr[r + 1] holds row r's length; turns them into row starts in place (rowPtr[0] = 0). */
function rowStarts(rowPtr: Int32Array): Int32Array {
  let total = 0;
  for (let r = 1; r < rowPtr.length; r++) {
    total += rowPtr[r];
    if (total >= 2 ** 31 - 1) throw new RangeError(`${total}+ entries exceed one CSR`);
    rowPtr[r] = total;
  }
  return rowPtr;
}

// Both passes run over every end of every source, so they are plain loops over the typed arrays.
function countOwned(pairs: Int32Array, lo: number, hi: number, rowPtr: Int32Array): void {
  for (let i = 0; i < pairs.length; i++) {
    const v = pairs[i];
    if (v >= lo && v < hi) rowPtr[v - lo + 1]++;
  }
}

function fillOwned(pairs: Int32Array, lo: number, hi: number, fill: Int32Array, col: Int32Array): void {
  for (let i = 0; i < pairs.length; i += 2) {
    const a = pairs[i];
    const b = pairs[i + 1];
    if (a >= lo && a < hi) col[fill[a - lo]++] = b;
    if (b >= lo && b < hi) col[fill[b - lo]++] = a;
  }
}
