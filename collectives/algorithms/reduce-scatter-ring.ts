/**
 * Reduce-scatter by the segmented ring: rank r gets block r = elements [floor(n*r/p), floor(n*(r+1)/p))
 * of the reduction (docs/ARCHITECTURE.md "Public API"). x is left unmodified; the result is a new array (a view of a
 * receive buffer when the block is a single segment).
 */

import type { ReduceOp, TypedArray } from '../../src/wire/vocabulary.js';
import type { Comm } from '../comm.js';
import { assertOpSupported, finishAvg } from '../reduce-kernels.js';
import {
  DEFAULT_RING_PIPELINE_DEPTH,
  DEFAULT_RING_SEGMENT_BYTES,
  type RingOptions,
} from './allreduce-ring.js';
import { reduceScatterPass, ringLayout, segmentLender, segmentStart } from './ring-segments.js';
import { allocLike, allocUninitialized, blockStart, copyInto, ctorOf, sliceView } from './typed-views.js';
import { runWindowed } from './windowed.js';

const ALGORITHM = 'reduce-scatter-ring';

/**
 * `inPlace`: the caller gives x up (a composed all-reduce): segments are reduced into x itself, incoming
 * partials land in the Comm's warm scratch, and the result is a view of x — no fresh memory at all, where
 * the copying form touches a new receive buffer per segment and a new result (on this VM fresh memory
 * costs ~2.8 ms a MiB: a 64 MiB reduce-scatter on 2 ranks took 245-464 ms that way, the all-reduce 25 ms).
 * Only when the Comm's sends are complete on return and it can receive into a buffer; otherwise the
 * copying form.
 */
export async function reduceScatterRing<T extends TypedArray>(
  comm: Comm,
  x: T,
  op: ReduceOp,
  options: RingOptions & { inPlace?: boolean } = {},
): Promise<T> {
  assertOpSupported(x, op);
  const { rank, size } = comm;
  const n = x.length;
  const lo = blockStart(n, size, rank);
  const hi = blockStart(n, size, rank + 1);
  if (size === 1) return x.slice() as T;
  const ctor = ctorOf(x);
  if (n === 0) return allocLike<T>(ctor, 0);
  const layout = ringLayout(n, size, x.BYTES_PER_ELEMENT, options.segmentBytes ?? DEFAULT_RING_SEGMENT_BYTES);
  const segments: T[] = new Array(layout.passes);
  const complete = comm.sendsCompleteOnReturn === true;
  const inPlace = options.inPlace && complete && comm.recvInto !== undefined;
  const lender = inPlace ? segmentLender(comm, layout, x.BYTES_PER_ELEMENT) : undefined;
  await runWindowed(layout.passes, options.pipelineDepth ?? DEFAULT_RING_PIPELINE_DEPTH, async (pass) => {
    // copyFirstSend unless sends complete before the call returns: otherwise nothing comes back around the
    // ring to prove the right neighbour has x's segment before the caller gets control of x again.
    const base = pass * (size - 1);
    segments[pass] = await reduceScatterPass(comm, x, op, layout, pass, base, !complete, ALGORITHM, lender);
  });
  let out: T;
  if (lender) {
    out = sliceView(x, lo, hi);
  } else if (layout.passes === 1) {
    out = segments[0];
  } else {
    out = allocUninitialized<T>(ctor, hi - lo);
    for (let pass = 0; pass < layout.passes; pass++)
      copyInto(out, segmentStart(layout, pass, rank) - lo, segments[pass]);
  }
  if (op === 'avg') finishAvg(out, size);
  return sliceView(out, 0, hi - lo);
}

/** How many message steps reduceScatterRing uses (steps 0..count-1), so a caller can continue after it. */
export function reduceScatterRingSteps(
  n: number,
  size: number,
  bytesPerElement: number,
  options: RingOptions = {},
): number {
  if (size === 1 || n === 0) return 0;
  return (
    ringLayout(n, size, bytesPerElement, options.segmentBytes ?? DEFAULT_RING_SEGMENT_BYTES).passes *
    (size - 1)
  );
}
