/**
 * Calinski–Harabasz score as scikit-learn's `calinski_harabasz_score`: between-cluster dispersion over
 * within-cluster dispersion, × (n - k) / (k - 1), with k the number of non-empty clusters and cluster
 * means taken from the labels. Written over per-cluster sums so the distributed version can combine
 * partial sums from every rank and reuse the same formula.
 */

/** Score from per-cluster [count, sumX, sumY] (3k) and the within dispersion around those means. */
export function chFromSums(acc: Float64Array, within: number): number {
  const k = acc.length / 3;
  let n = 0;
  let sx = 0;
  let sy = 0;
  let used = 0;
  for (let j = 0; j < k; j++) {
    n += acc[3 * j];
    sx += acc[3 * j + 1];
    sy += acc[3 * j + 2];
    if (acc[3 * j] > 0) used++;
  }
  if (used < 2) throw new RangeError('Calinski-Harabasz needs at least 2 non-empty clusters');
  const mx = sx / n;
  const my = sy / n;
  let between = 0;
  for (let j = 0; j < k; j++) {
    const c = acc[3 * j];
    if (c === 0) continue;
    between += c * ((acc[3 * j + 1] / c - mx) ** 2 + (acc[3 * j + 2] / c - my) ** 2);
  }
  return within === 0 ? 1 : (between * (n - used)) / (within * (used - 1));
}

/** Sum of squared distances of each point to the mean of its cluster (means from `acc`). */
export function withinDispersion(
  x: Float64Array,
  y: Float64Array,
  labels: Int32Array,
  acc: Float64Array,
): number {
  const k = acc.length / 3;
  const means = new Float64Array(2 * k);
  for (let j = 0; j < k; j++) {
    const c = acc[3 * j];
    means[2 * j] = c > 0 ? acc[3 * j + 1] / c : 0;
    means[2 * j + 1] = c > 0 ? acc[3 * j + 2] / c : 0;
  }
  let w = 0;
  for (let i = 0; i < x.length; i++) {
    const dx = x[i] - means[2 * labels[i]];
    const dy = y[i] - means[2 * labels[i] + 1];
    w += dx * dx + dy * dy;
  }
  return w;
}
