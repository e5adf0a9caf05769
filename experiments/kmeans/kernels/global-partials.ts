/**
 * Per-block kernels of `--mode global`: each computes one block's partial result of one phase into
 * `out` at offset `o`. They hold no state between phases (labels are recomputed from the centroids
 * when a phase needs them), so a block's partial is a pure function of the block and the small
 * arguments: the SPMD ranks and the pool's tasks call the same kernels on the same blocks and get the
 * same bits, wherever the block happens to live.
 */
import { assignLabels, clusterSums } from './lloyd.js';

/** Record widths of each phase's per-block partial. */
export const STATS_WIDTH = 3;
export const VARIANCE_WIDTH = 2;
export const stepWidth = (k: number): number => 3 * k + 1;
export const WITHIN_WIDTH = 1;

/** [rows, Σx, Σy] of the raw (uncentred) block. */
export function statsPartial(x: Float64Array, y: Float64Array, out: Float64Array, o: number): void {
  out[o] = x.length;
  for (let i = 0; i < x.length; i++) {
    out[o + 1] += x[i];
    out[o + 2] += y[i];
  }
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

/**
 * The block's rows picked for the k-means++ sample, centred, as [x0, y0, x1, y1, ...]. Picked by a
 * hash of the raw values, so the sample does not depend on how the blocks are spread.
 */
export function samplePartial(
  x: Float64Array,
  y: Float64Array,
  mx: number,
  my: number,
  rate: number,
): Float64Array {
  const cut = rate * 4294967296;
  let n = 0;
  for (let i = 0; i < x.length; i++) if (rate >= 1 || pointHash(x[i], y[i]) < cut) n++;
  const out = new Float64Array(2 * n);
  let at = 0;
  for (let i = 0; i < x.length; i++) {
    if (rate >= 1 || pointHash(x[i], y[i]) < cut) {
      out[at++] = x[i] - mx;
      out[at++] = y[i] - my;
    }
  }
  return out;
}

/** Centres the block in place (sklearn centres the data before k-means). */
export function centreBlock(x: Float64Array, y: Float64Array, mx: number, my: number): void {
  for (let i = 0; i < x.length; i++) {
    x[i] -= mx;
    y[i] -= my;
  }
}

/** [Σx², Σy²] of the centred block. */
export function variancePartial(x: Float64Array, y: Float64Array, out: Float64Array, o: number): void {
  for (let i = 0; i < x.length; i++) {
    out[o] += x[i] * x[i];
    out[o + 1] += y[i] * y[i];
  }
}

/**
 * One Lloyd's step of the centred block: labels for `centers`, then per cluster [count, Σx, Σy]
 * (3k) and the inertia. `labels` and `dist` are scratch of at least the block's length.
 */
export function stepPartial(
  x: Float64Array,
  y: Float64Array,
  centers: Float64Array,
  labels: Int32Array,
  dist: Float64Array,
  out: Float64Array,
  o: number,
): void {
  const k = centers.length >> 1;
  const n = x.length;
  const lab = labels.subarray(0, n);
  out[o + 3 * k] = assignLabels(x, y, centers, lab, dist.subarray(0, n));
  clusterSums(x, y, lab, out.subarray(o, o + 3 * k));
}

/** Σ squared distance of each point (labelled by `centers`) to the mean of its cluster (`means`). */
export function withinPartial(
  x: Float64Array,
  y: Float64Array,
  centers: Float64Array,
  means: Float64Array,
  labels: Int32Array,
  dist: Float64Array,
  out: Float64Array,
  o: number,
): void {
  const n = x.length;
  const lab = labels.subarray(0, n);
  assignLabels(x, y, centers, lab, dist.subarray(0, n));
  let w = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - means[2 * lab[i]];
    const dy = y[i] - means[2 * lab[i] + 1];
    w += dx * dx + dy * dy;
  }
  out[o] += w;
}

/** Scratch label/distance arrays, grown on demand and reused across blocks and phases. */
export class Scratch {
  labels = new Int32Array(0);
  dist = new Float64Array(0);
  fit(n: number): this {
    if (this.labels.length < n) {
      this.labels = new Int32Array(n);
      this.dist = new Float64Array(n);
    }
    return this;
  }
}
