import { seededRandom } from './sampler-random.js';

/**
 * Like torch's DistributedSampler: each epoch every rank computes the same permutation of 0..n-1 seeded
 * by (seed, epoch), pads it by repeating its head to a multiple of `size`, and takes every size-th index
 * starting at its rank. Every rank gets ceil(n/size) indices, so all ranks run the same number of steps
 * (their collectives line up); only the padding repeats samples.
 */
export interface DistributedSamplerOptions {
  rank: number;
  size: number;
  shuffle?: boolean;
  seed?: number;
  /** drop the tail instead of padding (torch's drop_last) */
  dropLast?: boolean;
}

export class DistributedSampler {
  readonly n: number;
  readonly rank: number;
  readonly size: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  /** indices this rank gets per epoch */
  readonly numSamples: number;

  constructor(n: number, opts: DistributedSamplerOptions) {
    if (!Number.isInteger(n) || n < 0)
      throw new RangeError(`dataset size must be a non-negative integer, got ${n}`);
    if (!Number.isInteger(opts.size) || opts.size < 1)
      throw new RangeError(`world size must be ≥ 1, got ${opts.size}`);
    if (!Number.isInteger(opts.rank) || opts.rank < 0 || opts.rank >= opts.size) {
      throw new RangeError(`rank ${opts.rank} is outside 0..${opts.size - 1}`);
    }
    this.n = n;
    this.rank = opts.rank;
    this.size = opts.size;
    this.shuffle = opts.shuffle ?? true;
    this.seed = opts.seed ?? 0;
    this.dropLast = opts.dropLast ?? false;
    this.numSamples = this.dropLast ? Math.floor(n / this.size) : Math.ceil(n / this.size);
  }

  /** The full (unsplit) order for an epoch: a permutation, or 0..n-1 without shuffle. */
  order(epoch: number): Int32Array {
    const perm = new Int32Array(this.n);
    for (let i = 0; i < this.n; i++) perm[i] = i;
    if (this.shuffle) {
      const rnd = seededRandom(this.seed, epoch);
      for (let i = this.n - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        const t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
      }
    }
    return perm;
  }

  /** This rank's indices for `epoch`. */
  indices(epoch: number): Int32Array {
    const out = new Int32Array(this.numSamples);
    if (this.n === 0) return out;
    const perm = this.order(epoch);
    for (let k = 0; k < this.numSamples; k++) {
      // position in the padded sequence; padding wraps around to the head (repeatedly if n < size)
      out[k] = perm[(this.rank + k * this.size) % this.n];
    }
    return out;
  }

  /**
   * This rank's share of global batch `step` for `epoch` when `batch` is the global batch (images per
   * optimizer step over all ranks, as in single-process training): the epoch's permutation is cut into
   * batches of `batch` (the last one shorter) and rank r takes every size-th image of a batch starting
   * at its r-th. The ranks' shares of a step together are exactly the one-process batch, so n ranks
   * step through the same batches as one; shares differ by at most one image.
   */
  batchShare(epoch: number, batch: number, step: number, order: Int32Array = this.order(epoch)): Int32Array {
    if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`batch must be ≥ 1, got ${batch}`);
    const start = step * batch;
    const end = Math.min(this.n, start + batch);
    const out: number[] = [];
    for (let i = start + this.rank; i < end; i += this.size) out.push(order[i]);
    return Int32Array.from(out);
  }

  /** Global batches per epoch for batchShare (the last may be short). */
  batchesPerEpoch(batch: number): number {
    return Math.ceil(this.n / batch);
  }
}
