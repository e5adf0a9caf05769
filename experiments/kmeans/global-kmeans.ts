/**
 * `--mode global`: one Lloyd's k-means over all rows, spread over ranks (or pool tasks). Every
 * reduction goes through per-block partial results gathered in block order and summed in that order
 * on every rank, never through a floating-point all-reduce whose summation order depends on the rank
 * count: the blocks are fixed by the file, so the centroids, inertia and score are bit-identical on
 * 1, 2 or 3 ranks. The partials are tiny (3k + 2 doubles a block), so this costs nothing measurable.
 *
 * The only collective needed is `gather`: each participant passes the partials of its blocks
 * (concatenated, blocks in file order) and gets every participant's, in participant order.
 */
import { chFromSums } from './calinski-harabasz.js';
import { kmeansPlusPlus } from './kmeans-plusplus.js';
import { assignLabels, clusterSums } from './lloyd.js';

export type Gather = (local: Float64Array) => Promise<Float64Array[]>;

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

/** Sums the gathered per-block partials (each `width` long) in block order into one vector. */
async function gatherSum(gather: Gather, local: Float64Array, width: number): Promise<Float64Array> {
  const parts = await gather(local);
  const out = new Float64Array(width);
  for (const p of parts) {
    for (let o = 0; o < p.length; o += width) for (let j = 0; j < width; j++) out[j] += p[o + j];
  }
  return out;
}

const bits = new Float64Array(2);
const words = new Uint32Array(bits.buffer);
/** A 32-bit hash of a point's exact values (the same point hashes the same on every rank). */
function pointHash(x: number, y: number): number {
  bits[0] = x;
  bits[1] = y;
  let h = 0x811c9dc5;
  for (let i = 0; i < 4; i++) {
    h = Math.imul(h ^ words[i], 0x01000193);
    h ^= h >>> 15;
  }
  h = Math.imul(h, 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}

/** Runs global k-means over this participant's blocks (x/y are centred in place). */
export async function globalKmeans(
  xs: Float64Array[],
  ys: Float64Array[],
  gather: Gather,
  opts: GlobalOptions,
): Promise<GlobalResult> {
  const { k, seed = 42, maxIter = 300, tol = 1e-4, sampleSize = 200_000 } = opts;
  const nb = xs.length;
  const per = (width: number, fill: (b: number, out: Float64Array, o: number) => void): Float64Array => {
    const out = new Float64Array(nb * width);
    for (let b = 0; b < nb; b++) fill(b, out, b * width);
    return out;
  };

  // Mean, then variance around it: sklearn centres the data and scales tol by the mean variance.
  const s1 = await gatherSum(
    gather,
    per(3, (b, out, o) => {
      out[o] = xs[b].length;
      for (let i = 0; i < xs[b].length; i++) {
        out[o + 1] += xs[b][i];
        out[o + 2] += ys[b][i];
      }
    }),
    3,
  );
  const rows = s1[0];
  if (rows < k) throw new RangeError(`k-means with k=${k} needs at least ${k} rows, the input has ${rows}`);
  const mx = s1[1] / rows;
  const my = s1[2] / rows;

  // Sample by hash of the original values, before centring.
  const rate = Math.min(1, sampleSize / rows);
  const cut = rate * 4294967296;
  const mine: number[] = [];
  for (let b = 0; b < nb; b++) {
    for (let i = 0; i < xs[b].length; i++) {
      if (rate >= 1 || pointHash(xs[b][i], ys[b][i]) < cut) mine.push(xs[b][i] - mx, ys[b][i] - my);
    }
  }
  for (let b = 0; b < nb; b++) {
    for (let i = 0; i < xs[b].length; i++) {
      xs[b][i] -= mx;
      ys[b][i] -= my;
    }
  }
  const s2 = await gatherSum(
    gather,
    per(2, (b, out, o) => {
      for (let i = 0; i < xs[b].length; i++) {
        out[o] += xs[b][i] * xs[b][i];
        out[o + 1] += ys[b][i] * ys[b][i];
      }
    }),
    2,
  );
  const tolAbs = ((s2[0] / rows + s2[1] / rows) / 2) * tol;

  const sampleParts = await gather(Float64Array.from(mine));
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

  const labels = xs.map((x) => new Int32Array(x.length).fill(-1));
  const prevLabels = xs.map((x) => new Int32Array(x.length));
  const dists = xs.map((x) => new Float64Array(x.length));
  const width = 3 * k + 2;
  let iterations = 0;
  let strict = false;
  for (let it = 0; it < maxIter; it++) {
    iterations = it + 1;
    const part = per(width, (b, out, o) => {
      prevLabels[b].set(labels[b]);
      out[o + 3 * k] = assignLabels(xs[b], ys[b], centers, labels[b], dists[b]);
      const acc = out.subarray(o, o + 3 * k);
      clusterSums(xs[b], ys[b], labels[b], acc);
      let changed = 0;
      for (let i = 0; i < labels[b].length; i++) if (labels[b][i] !== prevLabels[b][i]) changed++;
      out[o + 3 * k + 1] = changed;
    });
    const tot = await gatherSum(gather, part, width);
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
    if (it > 0 && tot[3 * k + 1] === 0) {
      strict = true;
      break;
    }
    if (shift <= tolAbs) break;
  }

  // Final labels for the final centroids (unless they already match), then inertia and the score.
  const fin = await gatherSum(
    gather,
    per(3 * k + 1, (b, out, o) => {
      if (!strict) assignLabels(xs[b], ys[b], centers, labels[b], dists[b]);
      let inertia = 0;
      for (let i = 0; i < xs[b].length; i++) {
        const dx = xs[b][i] - centers[2 * labels[b][i]];
        const dy = ys[b][i] - centers[2 * labels[b][i] + 1];
        inertia += dx * dx + dy * dy;
      }
      clusterSums(xs[b], ys[b], labels[b], out.subarray(o, o + 3 * k));
      out[o + 3 * k] = inertia;
    }),
    3 * k + 1,
  );
  const acc = fin.subarray(0, 3 * k);
  const means = new Float64Array(2 * k);
  for (let j = 0; j < k; j++) {
    means[2 * j] = acc[3 * j] > 0 ? acc[3 * j + 1] / acc[3 * j] : 0;
    means[2 * j + 1] = acc[3 * j] > 0 ? acc[3 * j + 2] / acc[3 * j] : 0;
  }
  const within = await gatherSum(
    gather,
    per(1, (b, out, o) => {
      for (let i = 0; i < xs[b].length; i++) {
        const dx = xs[b][i] - means[2 * labels[b][i]];
        const dy = ys[b][i] - means[2 * labels[b][i] + 1];
        out[o] += dx * dx + dy * dy;
      }
    }),
    1,
  );
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
