import { blockStart } from './algorithms/typed-views.js';
import type { GroupCore } from './group-core.js';

/**
 * A caller-given all-gather output of the wrong length fails the whole group at once (the other ranks
 * would otherwise wait for this rank's data until their timeout).
 */
export function checkGatherOut(core: GroupCore, length: number, counts: readonly number[]): void {
  let total = 0;
  for (const c of counts) total += c;
  if (length === total) return;
  const e = new RangeError(
    `allGather: out has ${length} elements on rank ${core.members[core.rank]} but the ranks' lengths sum to ${total}`,
  );
  core.breakGroup(e, true);
  throw e;
}

/** The same for reduceScatter's `out`: it must hold this rank's block exactly. */
export function checkReduceScatterOut(
  core: GroupCore,
  length: number,
  n: number,
  size: number,
  rank: number,
): void {
  const block = blockStart(n, size, rank + 1) - blockStart(n, size, rank);
  if (length === block) return;
  const e = new RangeError(
    `reduceScatter: out has ${length} elements on rank ${core.members[core.rank]} but its block of x (${n} elements over ${size} ranks) has ${block}`,
  );
  core.breakGroup(e, true);
  throw e;
}
