/**
 * Lloyd's k-means on 2-D points (x, y columns), with scikit-learn 1.2's stopping rule: stop when the
 * labels did not change, or when the summed squared centroid shift is <= tol; then one last
 * assignment pass so labels match the final centroids. Empty clusters take the points farthest from
 * their centroid, as sklearn's `_relocate_empty_clusters_dense`.
 */

export interface LloydResult {
  centers: Float64Array;
  labels: Int32Array;
  iterations: number;
  inertia: number;
}

/** Assigns each point to its nearest centroid; returns the inertia. `dist` gets each point's distance². */
export function assignLabels(
  x: Float64Array,
  y: Float64Array,
  centers: Float64Array,
  labels: Int32Array,
  dist: Float64Array,
): number {
  const n = x.length;
  const k = centers.length >> 1;
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    const px = x[i];
    const py = y[i];
    let best = 0;
    let bd = Number.POSITIVE_INFINITY;
    for (let j = 0; j < k; j++) {
      const dx = px - centers[2 * j];
      const dy = py - centers[2 * j + 1];
      const d = dx * dx + dy * dy;
      if (d < bd) {
        bd = d;
        best = j;
      }
    }
    labels[i] = best;
    dist[i] = bd;
    inertia += bd;
  }
  return inertia;
}

/** Per-cluster [count, sumX, sumY] of the labelled points, accumulated into `acc` (length 3k). */
export function clusterSums(x: Float64Array, y: Float64Array, labels: Int32Array, acc: Float64Array): void {
  for (let i = 0; i < x.length; i++) {
    const o = 3 * labels[i];
    acc[o] += 1;
    acc[o + 1] += x[i];
    acc[o + 2] += y[i];
  }
}

/** sklearn's tolerance: tol × mean over features of the variance. */
function scaledTolerance(x: Float64Array, y: Float64Array, tol: number): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let vx = 0;
  let vy = 0;
  for (let i = 0; i < n; i++) {
    vx += (x[i] - mx) ** 2;
    vy += (y[i] - my) ** 2;
  }
  return ((vx / n + vy / n) / 2) * tol;
}

/**
 * Lloyd's iterations with Hamerly's bounds: an upper bound on each point's distance to its centroid
 * and a lower bound on the distance to any other centroid let most points skip the k distance
 * evaluations once clusters settle. The labels are those plain Lloyd's would give (the bounds only
 * skip points whose nearest centroid provably did not change), at a fraction of the cost.
 */
export function lloyd(
  x: Float64Array,
  y: Float64Array,
  init: Float64Array,
  maxIter = 300,
  tol = 1e-4,
): LloydResult {
  const n = x.length;
  const k = init.length >> 1;
  const centers = Float64Array.from(init);
  const labels = new Int32Array(n);
  const dist = new Float64Array(n);
  const upper = new Float64Array(n);
  const lower = new Float64Array(n);
  const half = new Float64Array(k);
  const moved = new Float64Array(k);
  const acc = new Float64Array(3 * k);
  const tolAbs = scaledTolerance(x, y, tol);
  let iterations = 0;
  let strict = false;
  for (let it = 0; it < maxIter; it++) {
    iterations = it + 1;
    for (let j = 0; j < k; j++) {
      let m = Number.POSITIVE_INFINITY;
      for (let j2 = 0; j2 < k; j2++) {
        if (j2 === j) continue;
        const d = (centers[2 * j] - centers[2 * j2]) ** 2 + (centers[2 * j + 1] - centers[2 * j2 + 1]) ** 2;
        if (d < m) m = d;
      }
      half[j] = Math.sqrt(m) / 2;
    }
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const a = labels[i];
      if (it > 0) {
        const bound = half[a] > lower[i] ? half[a] : lower[i];
        if (upper[i] <= bound) continue;
        const dx = x[i] - centers[2 * a];
        const dy = y[i] - centers[2 * a + 1];
        upper[i] = Math.sqrt(dx * dx + dy * dy);
        if (upper[i] <= bound) continue;
      }
      const px = x[i];
      const py = y[i];
      let best = 0;
      let bd = Number.POSITIVE_INFINITY;
      let second = Number.POSITIVE_INFINITY;
      for (let j = 0; j < k; j++) {
        const dx = px - centers[2 * j];
        const dy = py - centers[2 * j + 1];
        const d = dx * dx + dy * dy;
        if (d < bd) {
          second = bd;
          bd = d;
          best = j;
        } else if (d < second) second = d;
      }
      if (best !== a || it === 0) changed++;
      labels[i] = best;
      upper[i] = Math.sqrt(bd);
      lower[i] = Math.sqrt(second);
    }
    acc.fill(0);
    clusterSums(x, y, labels, acc);
    let anyEmpty = false;
    for (let j = 0; j < k; j++) if (acc[3 * j] === 0) anyEmpty = true;
    if (anyEmpty) {
      assignLabels(x, y, centers, labels, dist);
      acc.fill(0);
      clusterSums(x, y, labels, acc);
      relocateEmpty(x, y, labels, dist, acc);
      changed++;
      // Bounds are stale after a relocation: force full scans next iteration.
      upper.fill(Number.POSITIVE_INFINITY);
      lower.fill(0);
    }
    let shift = 0;
    let maxMove = 0;
    let maxAt = -1;
    let secondMove = 0;
    for (let j = 0; j < k; j++) {
      const cnt = acc[3 * j];
      const nx = acc[3 * j + 1] / cnt;
      const ny = acc[3 * j + 2] / cnt;
      const d2 = (nx - centers[2 * j]) ** 2 + (ny - centers[2 * j + 1]) ** 2;
      shift += d2;
      moved[j] = Math.sqrt(d2);
      if (moved[j] > maxMove) {
        secondMove = maxMove;
        maxMove = moved[j];
        maxAt = j;
      } else if (moved[j] > secondMove) secondMove = moved[j];
      centers[2 * j] = nx;
      centers[2 * j + 1] = ny;
    }
    if (it > 0 && changed === 0) {
      strict = true;
      break;
    }
    if (shift <= tolAbs) break;
    for (let i = 0; i < n; i++) {
      const a = labels[i];
      upper[i] += moved[a];
      lower[i] -= a === maxAt ? secondMove : maxMove;
    }
  }
  let inertia: number;
  if (!strict) inertia = assignLabels(x, y, centers, labels, dist);
  else {
    inertia = 0;
    for (let i = 0; i < n; i++) {
      const dx = x[i] - centers[2 * labels[i]];
      const dy = y[i] - centers[2 * labels[i] + 1];
      inertia += dx * dx + dy * dy;
    }
  }
  return { centers, labels, iterations, inertia };
}

/** Moves the points farthest from their centroid into empty clusters (sklearn's rule). */
function relocateEmpty(
  x: Float64Array,
  y: Float64Array,
  labels: Int32Array,
  dist: Float64Array,
  acc: Float64Array,
) {
  const k = acc.length / 3;
  const empty: number[] = [];
  for (let j = 0; j < k; j++) if (acc[3 * j] === 0) empty.push(j);
  if (empty.length === 0) return;
  const far = Array.from(dist.keys())
    .sort((a, b) => dist[b] - dist[a])
    .slice(0, empty.length);
  empty.forEach((j, e) => {
    const i = far[e];
    const old = labels[i];
    acc[3 * old] -= 1;
    acc[3 * old + 1] -= x[i];
    acc[3 * old + 2] -= y[i];
    acc[3 * j] = 1;
    acc[3 * j + 1] = x[i];
    acc[3 * j + 2] = y[i];
    labels[i] = j;
    dist[i] = 0;
  });
}
