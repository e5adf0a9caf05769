/**
 * Small seeded PRNG (mulberry32 over a 32-bit mix of the seed words). Identical sequences on every rank
 * and platform for the same seed words, which is all the sampler and the augmentation need.
 */
export function mixSeed(...words: number[]): number {
  let h = 0x9e3779b9;
  for (const w of words) {
    h = Math.imul(h ^ (w >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** Returns a function giving uniform floats in [0, 1). */
export function seededRandom(...words: number[]): () => number {
  let a = mixSeed(...words);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
