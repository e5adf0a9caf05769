/**
 * `--mode global`: PageRank of the whole undirected graph over ranks that each read a share of the
 * edges. Setup: local indices for the rank's ends (local-edges.ts), global indices across ranks
 * (id-mapping.ts), global degrees (one all-reduce), labels that deal the nodes to the ranks by degree
 * and number each rank's share hub-first (row-blocks.ts); each rank then gets every edge touching its
 * contiguous range of rows (owned-rows.ts), regrouped by column segment (segmented-rows.ts). Per
 * iteration each rank computes its rows of the power step
 *   p = d·A·c + (1-d)/N + d·dangling/N,   c = x / degree,
 * weights it into the new x (Chebyshev acceleration: chebyshev.ts, row-step.ts), and one all-gather
 * of the owners' slices of c (with the slice's L1 change and dangling mass riding as two extra
 * numbers) rebuilds the whole c on every rank: one collective per iteration, moving N values.
 * (Partitioning by edges instead needs a reduce-scatter of N partial sums as well: three times the
 * traffic; measured on 2 ranks it made the run slower than 1 rank.)
 * Memory per rank: the rank's edges and owned entries as Int32 plus a few N-length vectors.
 */

import { collectGarbage } from '../../common/collect-garbage.js';
import { ChebyshevWeights } from '../kernels/chebyshev.js';
import { rowStep } from '../kernels/row-step.js';
import { type SegmentedRows, segmentRows } from '../kernels/segmented-rows.js';
import { mergeTop, type Ranked, topK } from '../kernels/top-k.js';
import type { PagerankComm } from '../setup/comm.js';
import type { EdgeChunk } from '../setup/edges.js';
import { EmptyGraphError } from '../setup/errors.js';
import { assignGlobalIds, type GlobalIds } from '../setup/id-mapping.js';
import { indexLocalEdges, type LocalEdges, localDegrees } from '../setup/local-edges.js';
import { buildOwnedRows } from '../setup/owned-rows.js';
import { labelRows } from '../setup/row-blocks.js';

export interface GlobalOptions {
  damping?: number;
  tol?: number;
  maxIter?: number;
  top?: number;
  /** Name of the input, for errors. */
  file?: string;
  /** `compute`: the seconds of `seconds` spent on this rank's rows, the rest waiting for the others. */
  onIteration?: (iteration: number, l1: number, seconds: number, compute?: number) => void;
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

interface Labels {
  g: GlobalIds;
  /** perm[global index] = label (row-blocks.ts). */
  perm: Int32Array;
  /** Row ranges of the ranks over labels. */
  bounds: Int32Array;
  /** 1/degree by label (0 for a node without edges: dangling). */
  invDeg: Float64Array;
}

type Phase = (name: string) => void;

/** Vector size from which every iteration collects the all-gather's buffer (see the loop). */
const LARGE_VECTOR_BYTES = 64 * 2 ** 20;

interface Prepared extends Labels {
  edges: number;
  rows: SegmentedRows;
}

/** Global ids, degrees and labels; the rank's ends are relabelled in place. */
async function labelNodes(comm: PagerankComm, local: LocalEdges, phase: Phase): Promise<Labels> {
  const g = await assignGlobalIds(comm, local.ids.ids);
  const n = g.nodes;
  const ldeg = localDegrees(local.ends, local.ids.size);
  const deg = new Float64Array(n);
  const gol = g.globalOfLocal;
  for (let l = 0; l < gol.length; l++) deg[gol[l]] += ldeg[l];
  await comm.allReduce(deg, 'sum');
  phase('ids');
  const { perm, invDeg, bounds } = labelRows(deg, comm.size);
  // Local index -> label, then every end to its label, in place.
  const label = new Int32Array(gol.length);
  for (let l = 0; l < gol.length; l++) label[l] = perm[gol[l]];
  const ends = local.ends;
  for (let i = 0; i < ends.length; i++) ends[i] = label[ends[i]];
  phase('labels');
  return { g, perm, bounds, invDeg };
}

/**
 * The rank's share read, labelled, its rows built and segmented. Each large array is dropped as soon
 * as the next phase no longer needs it, and collected before the next large allocation (see
 * collect-garbage.ts): the id table before the rows are built, the edge list before they are
 * segmented. Without the collections a rank's peak RSS on the 1 GB-class graph was 2.03 GB, with them
 * 1.40-1.52 GB.
 */
async function prepare(
  comm: PagerankComm,
  chunks: AsyncIterable<EdgeChunk>,
  file: string,
  phase: Phase,
): Promise<Prepared> {
  let local: LocalEdges | undefined = await indexLocalEdges(chunks);
  phase('read');
  const edges = (await comm.allReduce(Float64Array.of(local.ends.length / 2), 'sum'))[0];
  if (edges === 0) throw new EmptyGraphError(file);
  let ends: Int32Array | undefined = local.ends;
  const labels = await labelNodes(comm, local, phase);
  local = undefined;
  collectGarbage();
  const csr = await buildOwnedRows(comm, ends, labels.bounds, labels.invDeg);
  ends = undefined;
  collectGarbage();
  phase('rows');
  const rows = segmentRows(csr);
  phase('segments');
  return { edges, rows, ...labels };
}

export async function globalPagerank(
  comm: PagerankComm,
  chunks: AsyncIterable<EdgeChunk>,
  opts: GlobalOptions = {},
): Promise<GlobalResult> {
  const { damping = 0.85, tol = 1e-9, maxIter = 200, top = 10 } = opts;
  let t = performance.now();
  const phase: Phase = (name) => {
    const now = performance.now();
    opts.onPhase?.(name, (now - t) / 1000);
    t = now;
  };
  const { edges, g, perm, bounds, invDeg, rows } = await prepare(comm, chunks, opts.file ?? 'input', phase);
  collectGarbage();
  const n = g.nodes;
  const lo = bounds[comm.rank];
  const len = bounds[comm.rank + 1] - lo;

  const x = new Float64Array(len).fill(1 / n);
  const c = new Float64Array(n);
  let dangling = 0;
  for (let i = 0; i < n; i++) {
    c[i] = invDeg[i] / n;
    if (invDeg[i] === 0) dangling += 1 / n;
  }
  const xPrev = new Float64Array(len);
  const acc = new Float64Array(len);
  const weights = new ChebyshevWeights(damping);
  // Two alternating send buffers: the one of iteration i is rewritten at i + 2, and every rank has
  // received it by then (it entered the all-gather of i + 1 only after finishing that of i).
  const cBlocks = [new Float64Array(len + 2), new Float64Array(len + 2)];
  // Each all-gather returns a fresh buffer of N values, garbage once copied into c. V8 reclaims such
  // buffers lazily: on the 1 GB-class graph (88 MB each) one run kept ~600 MB of them alive, a rank's
  // peak RSS 2.04 GB instead of 1.44. A full collection takes ~5 ms there, under 1% of an iteration;
  // for small vectors the lazy reclaim costs little memory and the collection would cost more time.
  const collectEachIteration = n * 8 >= LARGE_VECTOR_BYTES;
  let iterations = 0;
  let converged = false;
  while (iterations < maxIter) {
    const ti = performance.now();
    const base = (1 - damping) / n + (damping * dangling) / n;
    const cb = cBlocks[iterations & 1];
    rowStep(rows, c, invDeg, x, xPrev, acc, cb, { damping, base, lo, weights: weights.next() });
    const tc = performance.now();
    const parts = await comm.allGather(cb);
    let l1 = 0;
    dangling = 0;
    for (let r = 0; r < parts.length; r++) {
      const p = parts[r];
      const k = p.length - 2;
      c.set(p.subarray(0, k), bounds[r]);
      l1 += p[k];
      dangling += p[k + 1];
    }
    if (collectEachIteration) collectGarbage();
    iterations++;
    opts.onIteration?.(iterations, l1, (performance.now() - ti) / 1000, (tc - ti) / 1000);
    if (l1 < tol) {
      converged = true;
      break;
    }
  }
  phase('iterate');

  // Scores are named by the owners of the ids: gather the whole x once, each owner ranks its own ids.
  const xs = await comm.allGather(x);
  const full = new Float64Array(n);
  for (let r = 0; r < xs.length; r++) full.set(xs[r], bounds[r]);
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
  phase('top');
  return { nodes: n, edges, iterations, converged, sum, top: mergeTop(lists, top) };
}
