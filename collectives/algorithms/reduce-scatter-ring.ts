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
import { reduceScatterPass, ringLayout, segmentStart } from './ring-segments.js';
import { allocLike, blockStart, copyInto, ctorOf, sliceView } from './typed-views.js';
import { runWindowed } from './windowed.js';

const ALGORITHM = 'reduce-scatter-ring';

export async function reduceScatterRing<T extends TypedArray>(
  comm: Comm,
  x: T,
  op: ReduceOp,
  options: RingOptions = {},
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
  await runWindowed(layout.passes, options.pipelineDepth ?? DEFAULT_RING_PIPELINE_DEPTH, async (pass) => {
    // copyFirstSend: nothing comes back around the ring to prove the right neighbour has x's segment before
    // the caller gets control of x again.
    segments[pass] = await reduceScatterPass(comm, x, op, layout, pass, pass * (size - 1), true, ALGORITHM);
  });
  let out: T;
  if (layout.passes === 1) {
    out = segments[0];
  } else {
    out = allocLike<T>(ctor, hi - lo);
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
