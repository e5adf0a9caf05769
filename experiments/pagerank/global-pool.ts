/**
 * `--mode global` in the pool style. The driver splits the file into one partition per worker; each
 * partition is loaded once by a task and stays in that worker's object store. The driver numbers the
 * nodes (it holds O(nodes): the id table and the degree, score and c vectors, never an edge), has each
 * partition build its CSR once, and per iteration submits one product task per partition with the
 * partition's CSR ref and the current c put once into the object store; it sums the partial products
 * and does the damping/dangling update itself.
 */
import type { Pool } from '../../src/pool/index.js';
import { degreeOrder } from './degree-order.js';
import type { EdgeFile } from './edges.js';
import { EmptyGraphError } from './errors.js';
import type { GlobalOptions, GlobalResult } from './global-pagerank.js';
import { IdIndex } from './id-index.js';
import { topK } from './top-k.js';

const TASKS = new URL('./pool-tasks.ts', import.meta.url);

export async function globalPagerankPool(
  pool: Pool,
  file: EdgeFile,
  partitions: number,
  opts: GlobalOptions & { skipBadLines?: boolean },
): Promise<GlobalResult> {
  const { damping = 0.85, tol = 1e-9, maxIter = 200, top = 10 } = opts;
  const phase = (name: string, t: number): void => opts.onPhase?.(name, (performance.now() - t) / 1000);
  type T = typeof import('./pool-tasks.js');
  const load = pool.remote<T['loadPartition']>(TASKS, 'loadPartition');
  const idsOf = pool.remote<T['partitionIds']>(TASKS, 'partitionIds');
  const build = pool.remote<T['buildPartitionCsr']>(TASKS, 'buildPartitionCsr');
  const multiply = pool.remote<T['multiply']>(TASKS, 'multiply');

  let t = performance.now();
  const ranges = splitCount(file.csv === undefined ? file.batches : file.size, partitions);
  const parts = ranges.map((r) => load(file.path, r.start, r.end, opts.skipBadLines ?? false));
  const infos = await pool.get(parts.map((p) => idsOf(p)));
  phase('read', t);
  t = performance.now();

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
  const perm = degreeOrder(deg);
  for (const g of locals) for (let i = 0; i < g.length; i++) g[i] = perm[g[i]];
  const csrs = parts.map((p, i) => build(p, locals[i], n));
  await pool.get(csrs);
  const invDeg = new Float64Array(n);
  for (let i = 0; i < n; i++) invDeg[perm[i]] = deg[i] > 0 ? 1 / deg[i] : 0;
  phase('index', t);

  const x = new Float64Array(n).fill(1 / n);
  let c = new Float64Array(n);
  let dangling = 0;
  for (let i = 0; i < n; i++) {
    c[i] = invDeg[i] / n;
    if (invDeg[i] === 0) dangling += 1 / n;
  }
  let iterations = 0;
  let converged = false;
  while (iterations < maxIter) {
    const ti = performance.now();
    const cRef = await pool.put(c);
    const ys = await pool.get(csrs.map((csr) => multiply(csr, cRef)));
    const base = (1 - damping) / n + (damping * dangling) / n;
    // A fresh c each iteration: the previous one may still be in flight to a worker.
    c = new Float64Array(n);
    let l1 = 0;
    dangling = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let p = 0; p < ys.length; p++) s += ys[p][i];
      const v = damping * s + base;
      l1 += Math.abs(v - x[i]);
      x[i] = v;
      if (invDeg[i] === 0) dangling += v;
      c[i] = v * invDeg[i];
    }
    iterations++;
    opts.onIteration?.(iterations, l1, (performance.now() - ti) / 1000);
    if (l1 < tol) {
      converged = true;
      break;
    }
  }
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
