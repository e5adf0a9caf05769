/**
 * `--mode global`: one Lloyd's k-means over all rows, spread over ranks (SPMD) or tasks (pool). Every
 * reduction goes through per-block partial results (global-partials.ts) summed in block order, never
 * through a floating-point all-reduce whose summation order depends on the rank count: the blocks are
 * fixed by the file, so the centroids, inertia and score are bit-identical on 1, 2 or 3 ranks and in
 * both styles. The partials are tiny (3k + 1 doubles a block), so this costs nothing measurable.
 *
 * The loop below runs on the driver (pool) or on every rank (SPMD); a `BlockPhases` evaluates one phase
 * on every block and returns the partials, blocks in file order (possibly split over several arrays):
 * GatheredBlocks over a rank's blocks (global-spmd.ts), PoolBlocks over tasks (global-pool.ts).
 *
 * Stopping rule, as sklearn: stop when the summed squared centroid shift is <= tol. sklearn also stops
 * when no label changed; that case needs no count of changed labels, because unchanged labels give
 * bit-identical sums, so the new centroids equal the old ones and the shift is exactly 0.
 */
import { chFromSums } from '../kernels/calinski-harabasz.js';
import { STATS_WIDTH, stepWidth, VARIANCE_WIDTH, WITHIN_WIDTH } from '../kernels/global-partials.js';
import { kmeansPlusPlus } from '../kernels/kmeans-plusplus.js';

/** One phase on every block; each resolves to all blocks' partials in file order. */
export interface BlockPhases {
  stats(): Promise<Float64Array[]>;
  /** Centred sample points [x, y, ...] of every block. */
  sample(mx: number, my: number, rate: number): Promise<Float64Array[]>;
  /** Centres every block (from now on phases see centred data) and returns [Σx², Σy²] partials. */
  centre(mx: number, my: number): Promise<Float64Array[]>;
  step(centers: Float64Array): Promise<Float64Array[]>;
  within(centers: Float64Array, means: Float64Array): Promise<Float64Array[]>;
}

export interface GlobalOptions {
  k: number;
  seed?: number;
  maxIter?: number;
  tol?: number;
  /** Rows drawn (by hash, independent of the partition) for the k-means++ initialisation. */
  sampleSize?: number;
  onIteration?: (iteration: number, shift: number, inertia: number) => void;
}

export interface GlobalResult {
  rows: number;
  centroids: number[][];
  inertia: number;
  calinski_harabasz: number;
  iterations: number;
}

/** Sums partial records (each `width` long) in order into one vector. */
function sumInOrder(parts: Float64Array[], width: number): Float64Array {
  const out = new Float64Array(width);
  for (const p of parts) {
    for (let o = 0; o < p.length; o += width) for (let j = 0; j < width; j++) out[j] += p[o + j];
  }
  return out;
}

/** Lloyd's k-means driven over `blocks`. */
export async function globalLloyd(blocks: BlockPhases, opts: GlobalOptions): Promise<GlobalResult> {
  const { k, seed = 42, maxIter = 300, tol = 1e-4, sampleSize = 200_000 } = opts;
  const s1 = sumInOrder(await blocks.stats(), STATS_WIDTH);
  const rows = s1[0];
  if (rows < k) throw new RangeError(`k-means with k=${k} needs at least ${k} rows, the input has ${rows}`);
  const mx = s1[1] / rows;
  const my = s1[2] / rows;

  // Sample by hash of the original values, before centring.
  const sampleParts = await blocks.sample(mx, my, Math.min(1, sampleSize / rows));
  // sklearn centres the data and scales tol by the mean variance.
  const s2 = sumInOrder(await blocks.centre(mx, my), VARIANCE_WIDTH);
  const tolAbs = ((s2[0] / rows + s2[1] / rows) / 2) * tol;

  const sampleLen = sampleParts.reduce((a, p) => a + p.length, 0) / 2;
  const sx = new Float64Array(sampleLen);
  const sy = new Float64Array(sampleLen);
  let at = 0;
  for (const p of sampleParts) {
    for (let i = 0; i < p.length; i += 2) {
      sx[at] = p[i];
      sy[at++] = p[i + 1];
    }
  }
  const centers = kmeansPlusPlus(sx, sy, k, seed);

  const width = stepWidth(k);
  let iterations = 0;
  for (let it = 0; it < maxIter; it++) {
    iterations = it + 1;
    const tot = sumInOrder(await blocks.step(centers), width);
    let shift = 0;
    for (let j = 0; j < k; j++) {
      const c = tot[3 * j];
      // An empty cluster keeps its centroid (sklearn moves it to a far point; rare with k-means++).
      if (c === 0) continue;
      const nx = tot[3 * j + 1] / c;
      const ny = tot[3 * j + 2] / c;
      shift += (nx - centers[2 * j]) ** 2 + (ny - centers[2 * j + 1]) ** 2;
      centers[2 * j] = nx;
      centers[2 * j + 1] = ny;
    }
    opts.onIteration?.(iterations, shift, tot[3 * k]);
    if (shift <= tolAbs) break;
  }

  // Labels for the final centroids, their inertia, then the score's dispersion around label means.
  const fin = sumInOrder(await blocks.step(centers), width);
  const acc = fin.subarray(0, 3 * k);
  const means = new Float64Array(2 * k);
  for (let j = 0; j < k; j++) {
    means[2 * j] = acc[3 * j] > 0 ? acc[3 * j + 1] / acc[3 * j] : 0;
    means[2 * j + 1] = acc[3 * j] > 0 ? acc[3 * j + 2] / acc[3 * j] : 0;
  }
  const within = sumInOrder(await blocks.within(centers, means), WITHIN_WIDTH);
  const centroids: number[][] = [];
  for (let j = 0; j < k; j++) centroids.push([centers[2 * j] + mx, centers[2 * j + 1] + my]);
  return {
    rows,
    centroids,
    inertia: fin[3 * k],
    calinski_harabasz: chFromSums(acc, within[0]),
    iterations,
  };
}
