/**
 * Sums scores per original id over many blocks (paper mode), in typed arrays: an IdIndex for the ids
 * and a growing Float64Array of sums, so a merge of millions of ids never builds a JS object per id.
 */
import { IdIndex } from './id-index.js';
import { type Ranked, topK } from './top-k.js';

export class ScoreSum {
  private readonly index: IdIndex;
  private sums: Float64Array;

  constructor(expected = 1024) {
    this.index = new IdIndex(expected);
    this.sums = new Float64Array(Math.max(16, expected));
  }

  get size(): number {
    return this.index.size;
  }

  /** Adds scores[i] to ids[i]'s sum, in order. */
  add(ids: Float64Array, scores: Float64Array): void {
    for (let i = 0; i < ids.length; i++) {
      const k = this.index.insert(ids[i]);
      if (k >= this.sums.length) {
        const grown = new Float64Array(this.sums.length * 2);
        grown.set(this.sums);
        this.sums = grown;
      }
      this.sums[k] += scores[i];
    }
  }

  /** The ids and their sums (copies), in first-seen order. */
  entries(): { ids: Float64Array; scores: Float64Array } {
    const n = this.index.size;
    return { ids: this.index.ids.slice(), scores: this.sums.slice(0, n) };
  }

  /**
   * The scores scaled to sum 1 (the seed's normalisation after summing blocks): the number of ids, the
   * k best and the sum of the scaled scores (1 up to rounding).
   */
  normalisedTop(k: number): { nodes: number; top: Ranked[]; sum: number } {
    const { ids, scores } = this.entries();
    let total = 0;
    for (let i = 0; i < scores.length; i++) total += scores[i];
    let sum = 0;
    for (let i = 0; i < scores.length; i++) {
      scores[i] /= total;
      sum += scores[i];
    }
    return { nodes: ids.length, top: topK(ids, scores, k), sum };
  }
}
