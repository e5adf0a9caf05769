/**
 * Greedy k-means++ exactly as scikit-learn 1.2's `_kmeans_plusplus` (2 + ln k local trials, the same
 * numpy random stream, distances as ||c||² - 2 c·x + ||x||² like its `_euclidean_distances`), on 2-D
 * points given as separate x and y columns. Same seed, same data: same initial centroids.
 */
import { NumpyRandomState } from './mt19937.js';

/** Returns k centroids as [x0, y0, x1, y1, ...]. */
export function kmeansPlusPlus(x: Float64Array, y: Float64Array, k: number, seed: number): Float64Array {
  const n = x.length;
  if (n < k) throw new RangeError(`k-means with k=${k} needs at least ${k} points, got ${n}`);
  const rs = new NumpyRandomState(seed);
  const trials = 2 + Math.floor(Math.log(k));
  const centers = new Float64Array(2 * k);
  const sq = new Float64Array(n);
  for (let i = 0; i < n; i++) sq[i] = x[i] * x[i] + y[i] * y[i];
  const closest = new Float64Array(n);
  const cand = new Float64Array(n * trials);
  const cum = new Float64Array(n);
  const randVals = new Float64Array(trials);
  const candIds = new Int32Array(trials);

  const first = rs.randint(n);
  centers[0] = x[first];
  centers[1] = y[first];
  let pot = 0;
  {
    const cx = x[first];
    const cy = y[first];
    const cc = sq[first];
    for (let i = 0; i < n; i++) {
      const d = cc - 2 * (cx * x[i] + cy * y[i]) + sq[i];
      closest[i] = d > 0 ? d : 0;
      pot += closest[i];
    }
  }
  for (let c = 1; c < k; c++) {
    for (let t = 0; t < trials; t++) randVals[t] = rs.randomSample() * pot;
    let s = 0;
    for (let i = 0; i < n; i++) {
      s += closest[i];
      cum[i] = s;
    }
    for (let t = 0; t < trials; t++) {
      // searchsorted(side='left'): first index with cum >= value, clipped to n - 1.
      let lo = 0;
      let hi = n;
      const v = randVals[t];
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cum[mid] < v) lo = mid + 1;
        else hi = mid;
      }
      candIds[t] = Math.min(lo, n - 1);
    }
    let best = 0;
    let bestPot = Number.POSITIVE_INFINITY;
    for (let t = 0; t < trials; t++) {
      const id = candIds[t];
      const cx = x[id];
      const cy = y[id];
      const cc = sq[id];
      const off = t * n;
      let p = 0;
      for (let i = 0; i < n; i++) {
        let d = cc - 2 * (cx * x[i] + cy * y[i]) + sq[i];
        if (d < 0) d = 0;
        const m = d < closest[i] ? d : closest[i];
        cand[off + i] = m;
        p += m;
      }
      // argmin keeps the first of equal potentials, as numpy's.
      if (p < bestPot) {
        bestPot = p;
        best = t;
      }
    }
    pot = bestPot;
    closest.set(cand.subarray(best * n, best * n + n));
    centers[2 * c] = x[candIds[best]];
    centers[2 * c + 1] = y[candIds[best]];
  }
  return centers;
}
