/**
 * The seed's per-block method: sklearn-style KMeans(k, random_state=seed, n_init=1) on one block of
 * rows as 2-D points, then its Calinski–Harabasz score. Points are centred first, as sklearn does,
 * which keeps ||x||² small next to distances between points with ids near 10^8.
 */
import { chFromSums, withinDispersion } from './calinski-harabasz.js';
import { kmeansPlusPlus } from './kmeans-plusplus.js';
import { clusterSums, lloyd } from './lloyd.js';

export interface BlockResult {
  rows: number;
  score: number;
  iterations: number;
  inertia: number;
}

/** Clusters one block in place (x and y are centred by this call). */
export function clusterBlock(
  x: Float64Array,
  y: Float64Array,
  k: number,
  seed = 42,
  maxIter = 300,
  tol = 1e-4,
) {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  for (let i = 0; i < n; i++) {
    x[i] -= mx;
    y[i] -= my;
  }
  const init = kmeansPlusPlus(x, y, k, seed);
  const r = lloyd(x, y, init, maxIter, tol);
  const acc = new Float64Array(3 * k);
  clusterSums(x, y, r.labels, acc);
  const score = chFromSums(acc, withinDispersion(x, y, r.labels, acc));
  return { rows: n, score, iterations: r.iterations, inertia: r.inertia } satisfies BlockResult;
}
