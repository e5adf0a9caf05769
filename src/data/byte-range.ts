/**
 * Byte ranges of a file, nominal (before line alignment). A line belongs to the range that holds its
 * first byte, so any partition of [0, size) into ranges reads every line exactly once; the aligning
 * itself is done by the reader (csv-reader.ts), which looks at the byte before the range start.
 */

/** Half-open byte range [start, end). */
export interface ByteRange {
  start: number;
  end: number;
}

/** Rank `rank` of `size`'s share: [floor(total*r/size), floor(total*(r+1)/size)). */
export function shareOfRange(range: ByteRange, rank: number, size: number): ByteRange {
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`size must be a positive integer, got ${size}`);
  if (!Number.isInteger(rank) || rank < 0 || rank >= size) {
    throw new RangeError(`rank must be an integer in [0, ${size}), got ${rank}`);
  }
  const len = range.end - range.start;
  return {
    start: range.start + Math.floor((len * rank) / size),
    end: range.start + Math.floor((len * (rank + 1)) / size),
  };
}

/**
 * Fixed blocks of `blockBytes` over [0, fileSize): the same blocks whatever the number of readers,
 * which is what makes per-block results independent of the rank count.
 */
export function fixedBlocks(fileSize: number, blockBytes: number): ByteRange[] {
  if (!(blockBytes >= 1)) throw new RangeError(`block size must be at least 1 byte, got ${blockBytes}`);
  const out: ByteRange[] = [];
  for (let s = 0; s < fileSize; s += blockBytes)
    out.push({ start: s, end: Math.min(fileSize, s + blockBytes) });
  return out;
}

/** Contiguous share of `count` items for rank `rank` of `size`: indices [lo, hi). */
export function shareOfCount(count: number, rank: number, size: number): { lo: number; hi: number } {
  const r = shareOfRange({ start: 0, end: count }, rank, size);
  return { lo: r.start, hi: r.end };
}
