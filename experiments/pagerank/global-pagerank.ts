/**
 * `--mode global`: PageRank of the whole undirected graph over ranks that each hold a share of the
 * edges. Per rank: a CSR of its edges keyed by destination over all N nodes (O(edges/ranks + N)),
 * the global degrees (one all-reduce), and per iteration
 *   y = A_r·c (c = x / degree, full vector), reduce-scatter y → this rank's block of A·c,
 *   x_block ← d·y + (1-d)/N + d·dangling/N, then all-gather the block of the next c,
 * with the block's L1 change and dangling mass riding as two extra numbers on the all-gather, so an
 * iteration costs exactly two collectives. N-length buffers are reused across iterations; see the
 * comments at the loop for why that is safe with zero-copy sends.
 */
import { buildCsr, gatherRows } from './csr.js';
import { degreeOrder } from './degree-order.js';
import type { EdgeChunk } from './edges.js';
import { EmptyGraphError } from './errors.js';
import { blockOf, type PagerankComm } from './global-comm.js';
import { IdIndex } from './id-index.js';
import { assignGlobalIds } from './id-mapping.js';
import { mergeTop, type Ranked, topK } from './top-k.js';

export interface GlobalOptions {
  damping?: number;
  tol?: number;
  maxIter?: number;
  top?: number;
  /** Name of the input, for errors. */
  file?: string;
  onIteration?: (iteration: number, l1: number, seconds: number) => void;
  onPhase?: (phase: string, seconds: number) => void;
}

export interface GlobalResult {
  nodes: number;
  edges: number;
  iterations: number;
  converged: boolean;
  /** Sum of all scores (1 up to rounding). */
  sum: number;
  top: Ranked[];
}

/** Local indices of this rank's edge ends, [a0, b0, a1, b1, ...], and the ids they stand for. */
async function indexLocalEdges(
  chunks: AsyncIterable<EdgeChunk>,
): Promise<{ ends: Int32Array; ids: IdIndex }> {
  const ids = new IdIndex(1 << 16);
  let ends = new Int32Array(1 << 20);
  let m = 0;
  for await (const { src, dst } of chunks) {
    if (2 * (m + src.length) > ends.length) {
      let cap = ends.length;
      while (cap < 2 * (m + src.length)) cap *= 2;
      const grown = new Int32Array(cap);
      grown.set(ends.subarray(0, 2 * m));
      ends = grown;
    }
    for (let i = 0; i < src.length; i++) {
      ends[2 * m] = ids.insert(src[i]);
      ends[2 * m + 1] = ids.insert(dst[i]);
      m++;
    }
  }
  return { ends: ends.subarray(0, 2 * m), ids };
}

/**
 * Global ids, global degrees, hub-first labels and the CSR. A function of its own so that the edge
 * end list and the local id table (about half of the peak memory) are garbage once it returns.
 */
async function relabel(comm: PagerankComm, local: { ends: Int32Array; ids: IdIndex }) {
  const g = await assignGlobalIds(comm, local.ids.ids);
  const n = g.nodes;
  const ends = local.ends;
  const degLocal = new Float64Array(n);
  for (let i = 0; i < ends.length; i++) degLocal[g.globalOfLocal[ends[i]]]++;
  const deg = await comm.allReduce(degLocal, 'sum');
  const perm = degreeOrder(deg);
  for (let i = 0; i < ends.length; i++) ends[i] = perm[g.globalOfLocal[ends[i]]];
  // invDeg 0 marks a dangling node (none when nodes come from edges, kept for generality).
  const invDeg = new Float64Array(n);
  for (let i = 0; i < n; i++) invDeg[perm[i]] = deg[i] > 0 ? 1 / deg[i] : 0;
  return { g, perm, invDeg, csr: buildCsr(ends, n) };
}

export async function globalPagerank(
  comm: PagerankComm,
  chunks: AsyncIterable<EdgeChunk>,
  opts: GlobalOptions = {},
): Promise<GlobalResult> {
  const { damping = 0.85, tol = 1e-9, maxIter = 200, top = 10 } = opts;
  const phase = (name: string, t: number): void => opts.onPhase?.(name, (performance.now() - t) / 1000);
  let t = performance.now();
  let local: { ends: Int32Array; ids: IdIndex } | undefined = await indexLocalEdges(chunks);
  phase('read', t);
  t = performance.now();
  const edgeCount = await comm.allReduce(Float64Array.of(local.ends.length / 2), 'sum');
  const edges = edgeCount[0];
  if (edges === 0) throw new EmptyGraphError(opts.file ?? 'input');
  const { g, perm, invDeg, csr } = await relabel(comm, local);
  local = undefined;
  const n = g.nodes;
  phase('index', t);
  const { lo, hi } = blockOf(n, comm.rank, comm.size);
  const len = hi - lo;
  const x = new Float64Array(len).fill(1 / n);
  const c = new Float64Array(n);
  let dangling = 0;
  for (let i = 0; i < n; i++) {
    c[i] = invDeg[i] / n;
    if (invDeg[i] === 0) dangling += 1 / n;
  }
  const y = new Float64Array(n);
  const cBlocks = [new Float64Array(len + 2), new Float64Array(len + 2)];

  let iterations = 0;
  let converged = false;
  while (iterations < maxIter) {
    const ti = performance.now();
    // y is rewritten while the previous reduce-scatter's sends may be zero-copy views of it: safe,
    // because the all-gather that ended the last iteration received a block from every rank, and a
    // rank enters that all-gather only after its reduce-scatter (which consumed our y) completed.
    gatherRows(csr, c, y);
    const yBlock = await comm.reduceScatter(y, 'sum');
    const base = (1 - damping) / n + (damping * dangling) / n;
    // Two alternating send buffers: the one of iteration i is rewritten at i + 2, after the
    // reduce-scatter of i + 1, which every rank enters only once its all-gather of i has completed.
    const cb = cBlocks[iterations & 1];
    let l1 = 0;
    let dang = 0;
    for (let i = 0; i < len; i++) {
      const v = damping * yBlock[i] + base;
      l1 += Math.abs(v - x[i]);
      x[i] = v;
      const inv = invDeg[lo + i];
      if (inv === 0) dang += v;
      cb[i] = v * inv;
    }
    cb[len] = l1;
    cb[len + 1] = dang;
    const parts = await comm.allGather(cb);
    l1 = 0;
    dangling = 0;
    for (let r = 0; r < parts.length; r++) {
      const p = parts[r];
      const k = p.length - 2;
      c.set(p.subarray(0, k), blockOf(n, r, comm.size).lo);
      l1 += p[k];
      dangling += p[k + 1];
    }
    iterations++;
    opts.onIteration?.(iterations, l1, (performance.now() - ti) / 1000);
    if (l1 < tol) {
      converged = true;
      break;
    }
  }

  // Scores are named by the owners of the ids: gather the whole x once, each owner ranks its own ids.
  const xs = await comm.allGather(x);
  const full = new Float64Array(n);
  for (let r = 0; r < xs.length; r++) full.set(xs[r], blockOf(n, r, comm.size).lo);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += full[i];
  const ownedScores = new Float64Array(g.owned.length);
  for (let k = 0; k < ownedScores.length; k++) ownedScores[k] = full[perm[g.offset + k]];
  const mine = topK(g.owned, ownedScores, top);
  const flat = new Float64Array(2 * mine.length);
  mine.forEach(([id, s], i) => {
    flat[2 * i] = id;
    flat[2 * i + 1] = s;
  });
  const cands = await comm.allGather(flat);
  const lists = cands.map((f) =>
    Array.from({ length: f.length / 2 }, (_, i): Ranked => [f[2 * i], f[2 * i + 1]]),
  );
  return { nodes: n, edges, iterations, converged, sum, top: mergeTop(lists, top) };
}
