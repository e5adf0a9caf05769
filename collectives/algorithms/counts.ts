/** Validation and prefix offsets for the variable-length collectives (counts are element counts per rank). */
import type { Comm } from '../comm.js';

/**
 * Checks that `counts` has one non-negative integer per rank and that this rank's entry matches the
 * length it actually passed; a mismatch here would otherwise surface as a wrong-sized message later.
 */
export function checkCounts(
  comm: Comm,
  counts: readonly number[],
  ownLength: number | undefined,
  what: string,
): void {
  if (counts.length !== comm.size) {
    throw new RangeError(`${what}: counts has ${counts.length} entries but the group has ${comm.size} ranks`);
  }
  for (let r = 0; r < counts.length; r++) {
    const c = counts[r];
    if (!Number.isInteger(c) || c < 0) {
      throw new RangeError(`${what}: counts[${r}] = ${c} is not a non-negative integer element count`);
    }
  }
  if (ownLength !== undefined && counts[comm.rank] !== ownLength) {
    throw new RangeError(
      `${what}: rank ${comm.rank} passes ${ownLength} elements but counts[${comm.rank}] = ${counts[comm.rank]}`,
    );
  }
}

/** offsets[r] = sum of counts[0..r); offsets[size] = total. */
export function prefixOffsets(counts: readonly number[]): number[] {
  const offsets = new Array<number>(counts.length + 1);
  offsets[0] = 0;
  for (let r = 0; r < counts.length; r++) offsets[r + 1] = offsets[r] + counts[r];
  return offsets;
}
