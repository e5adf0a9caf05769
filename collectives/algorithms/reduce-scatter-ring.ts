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
import {
  type PassTarget,
  reduceScatterPass,
  ringLayout,
  segmentLender,
  segmentStart,
} from './ring-segments.js';
import { allocLike, allocUninitialized, blockStart, copyInto, ctorOf, sliceView } from './typed-views.js';
import { runWindowed } from './windowed.js';

const ALGORITHM = 'reduce-scatter-ring';

/**
 * `inPlace`: the caller gives x up (a composed all-reduce): segments are reduced into x itself, incoming
 * partials land in the Comm's warm scratch, and the result is a view of x — no fresh memory at all.
 * Otherwise x is left alone and, when the Comm's sends are complete on return and it can receive into a
 * buffer, incoming partials land in warm scratch and this rank's block is reduced straight into the result:
 * the one fresh array is the result itself. (The form before, a new receive buffer per segment copied into a
 * new result, took 245-464 ms for 64 MiB on 2 ranks: on this VM fresh memory costs ~2.8 ms a MiB.) Without
 * those two properties, the copying form.
 */
export async function reduceScatterRing<T extends TypedArray>(
  comm: Comm,
  x: T,
  op: ReduceOp,
  options: RingOptions & { inPlace?: boolean; out?: T } = {},
): Promise<T> {
  assertOpSupported(x, op);
  const { rank, size } = comm;
  const n = x.length;
  const lo = blockStart(n, size, rank);
  const hi = blockStart(n, size, rank + 1);
  const given = options.inPlace ? undefined : options.out;
  if (given && given.length !== hi - lo)
    throw new RangeError(`reduceScatter: out has ${given.length} elements, this rank's block ${hi - lo}`);
  if (size === 1) {
    if (!given) return x.slice() as T;
    copyInto(given, 0, x);
    return given;
  }
  const ctor = ctorOf(x);
  if (n === 0) return given ?? allocLike<T>(ctor, 0);
  const layout = ringLayout(n, size, x.BYTES_PER_ELEMENT, options.segmentBytes ?? DEFAULT_RING_SEGMENT_BYTES);
  const segments: T[] = new Array(layout.passes);
  const complete = comm.sendsCompleteOnReturn === true;
  const lent = complete && comm.recvInto !== undefined;
  const lender = lent ? segmentLender(comm, layout, x.BYTES_PER_ELEMENT) : undefined;
  const result = lender && !options.inPlace ? (given ?? allocUninitialized<T>(ctor, hi - lo)) : undefined;
  const target: PassTarget<T> = !lender
    ? { kind: 'fresh' }
    : result
      ? { kind: 'into-out', lender, out: result, lo }
      : { kind: 'in-place', lender };
  await runWindowed(layout.passes, options.pipelineDepth ?? DEFAULT_RING_PIPELINE_DEPTH, async (pass) => {
    // copyFirstSend unless sends complete before the call returns: otherwise nothing comes back around the
    // ring to prove the right neighbour has x's segment before the caller gets control of x again.
    const base = pass * (size - 1);
    segments[pass] = await reduceScatterPass(comm, x, op, layout, pass, base, !complete, ALGORITHM, target);
  });
  let out: T;
  if (target.kind === 'in-place') {
    out = sliceView(x, lo, hi);
  } else if (target.kind === 'into-out') {
    out = target.out;
  } else if (layout.passes === 1 && !given) {
    out = segments[0];
  } else {
    out = given ?? allocUninitialized<T>(ctor, hi - lo);
    for (let pass = 0; pass < layout.passes; pass++)
      copyInto(out, segmentStart(layout, pass, rank) - lo, segments[pass]);
  }
  if (op === 'avg') finishAvg(out, size);
  return given ?? sliceView(out, 0, hi - lo);
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
