/**
 * `--mode global` in the pool style. The driver splits the file into one partition per worker; each
 * partition is loaded once by a task and stays in that worker's object store. The driver numbers the
 * nodes (it holds O(nodes): the id table and the degree, score and c vectors, never an edge), labels
 * them and cuts the labels into one row block per partition, the nodes dealt to the blocks by degree
 * (row-blocks.ts, as the SPMD style). Each partition then sends the other blocks the edges that touch
 * their rows (splitForRows, then one small pick task per pair, both where the partition lives), and
 * block p's rows (segmented-rows.ts) are built on partition p's worker: their largest argument is
 * partition p itself, so the locality-aware scheduler places them there, and every product task
 * follows them. Per iteration: c is put once, one product task per block returns the block's slice of
 * A·c (N values in all, where edge partitions would return N values each), and the driver does the
 * update (Chebyshev-weighted, as the SPMD style).
 */
import type { ObjectRef, Pool } from '../../../src/pool/index.js';
import { ChebyshevWeights } from '../kernels/chebyshev.js';
import { IdIndex } from '../kernels/id-index.js';
import { updateBlock } from '../kernels/row-step.js';
import type { SegmentedRows } from '../kernels/segmented-rows.js';
import { topK } from '../kernels/top-k.js';
import type { EdgeFile } from '../setup/edges.js';
import { EmptyGraphError } from '../setup/errors.js';
import { labelRows } from '../setup/row-blocks.js';
import type { GlobalOptions, GlobalResult } from './global-spmd.js';

const TASKS = new URL('./pool-tasks.ts', import.meta.url);

export async function globalPagerankPool(
  pool: Pool,
  file: EdgeFile,
  partitions: number,
  opts: GlobalOptions & { skipBadLines?: boolean },
): Promise<GlobalResult> {
  const { damping = 0.85, tol = 1e-9, maxIter = 200, top = 10 } = opts;
  let t = performance.now();
  const phase = (name: string): void => {
    const now = performance.now();
    opts.onPhase?.(name, (now - t) / 1000);
    t = now;
  };
  type T = typeof import('./pool-tasks.js');
  const load = pool.remote<T['loadPartition']>(TASKS, 'loadPartition');
  const idsOf = pool.remote<T['partitionIds']>(TASKS, 'partitionIds');
  const split = pool.remote<T['splitForRows']>(TASKS, 'splitForRows');
  const pick = pool.remote<T['pick']>(TASKS, 'pick');
  const buildRows = pool.remote<T['buildRows']>(TASKS, 'buildRows');
  const multiply = pool.remote<T['multiply']>(TASKS, 'multiply');

  const ranges = splitCount(file.csv === undefined ? file.batches : file.size, partitions);
  const parts = ranges.map((r) => load(file.path, r.start, r.end, opts.skipBadLines ?? false));
  const infos = await pool.get(parts.map((p) => idsOf(p)));
  phase('read');

  // Node numbering and global degrees on the driver, partitions in order.
  const index = new IdIndex(1 << 16);
  const locals = infos.map((info) => {
    const g = new Int32Array(info.ids.length);
    index.insertAll(info.ids, g);
    return g;
  });
  const n = index.size;
  let edges = 0;
  const deg = new Float64Array(n);
  infos.forEach((info, p) => {
    const g = locals[p];
    for (let i = 0; i < g.length; i++) {
      deg[g[i]] += info.degree[i];
      edges += info.degree[i];
    }
  });
  edges /= 2;
  if (edges === 0) throw new EmptyGraphError(opts.file ?? file.path);
  const blocks = parts.length;
  const { perm, invDeg, bounds } = labelRows(deg, blocks);
  const labels = locals.map((g) => {
    for (let i = 0; i < g.length; i++) g[i] = perm[g[i]];
    return pool.put(g);
  });
  phase('ids');

  const splits = parts.map((part, q) => split(part, labels[q], bounds, q));
  const blockRows: ObjectRef<SegmentedRows>[] = parts.map((part, p) => {
    const others = splits.filter((_, q) => q !== p).map((s) => pick(s, p));
    return buildRows(part, labels[p], bounds, p, ...others);
  });
  // Wait, not get: the row blocks stay on their workers.
  await pool.wait(blockRows, { numReturns: blockRows.length });
  phase('rows');

  const x = new Float64Array(n).fill(1 / n);
  let c = new Float64Array(n);
  let dangling = 0;
  for (let i = 0; i < n; i++) {
    c[i] = invDeg[i] / n;
    if (invDeg[i] === 0) dangling += 1 / n;
  }
  const xPrev = new Float64Array(n);
  const weights = new ChebyshevWeights(damping);
  let iterations = 0;
  let converged = false;
  while (iterations < maxIter) {
    const ti = performance.now();
    const cRef = pool.put(c);
    const ys = await pool.get(blockRows.map((rows) => multiply(rows, cRef)));
    const base = (1 - damping) / n + (damping * dangling) / n;
    const w = weights.next();
    // A fresh c each iteration: the previous one may still be in flight to a worker.
    c = new Float64Array(n);
    let l1 = 0;
    dangling = 0;
    for (let p = 0; p < blocks; p++) {
      const y = ys[p];
      const lo = bounds[p];
      const hi = lo + y.length;
      // The SPMD step's update (row-step.ts), on this block's slices of the driver's vectors.
      const [dl1, dDangling] = updateBlock(
        y,
        invDeg,
        x.subarray(lo, hi),
        xPrev.subarray(lo, hi),
        c.subarray(lo, hi),
        { damping, base, lo, weights: w },
        y.length,
      );
      l1 += dl1;
      dangling += dDangling;
    }
    iterations++;
    opts.onIteration?.(iterations, l1, (performance.now() - ti) / 1000);
    if (l1 < tol) {
      converged = true;
      break;
    }
  }
  phase('iterate');
  let sum = 0;
  for (let i = 0; i < n; i++) sum += x[i];
  const ids = index.ids;
  const scores = new Float64Array(n);
  for (let i = 0; i < n; i++) scores[i] = x[perm[i]];
  return { nodes: n, edges, iterations, converged, sum, top: topK(ids, scores, top) };
}

/** `parts` contiguous ranges over [0, total) (byte ranges, or batch index ranges). */
function splitCount(total: number, parts: number): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (let p = 0; p < parts; p++) {
    const start = Math.floor((total * p) / parts);
    const end = Math.floor((total * (p + 1)) / parts);
    if (end > start) out.push({ start, end });
  }
  return out;
}
