/**
 * Segment layout and the reduce-scatter pass shared by the ring all-reduce and the ring reduce-scatter.
 *
 * Blocks follow the docs/ARCHITECTURE.md contract: block b = [floor(n*b/p), floor(n*(b+1)/p)). Each block is cut into
 * `passes` segments of at most ~segmentBytes; pass k moves segment k of every block around the ring. Passes
 * are independent, so several run at once and one pass's reduction overlaps another's transfer.
 */

import type { ReduceOp, TypedArray } from '../../src/wire/vocabulary.js';
import type { Comm } from '../comm.js';
import { reduceTo } from '../reduce-kernels.js';
import {
  blockStart,
  bytesOf,
  copyBytes,
  ctorOf,
  mod,
  scratchLike,
  sliceView,
  viewAs,
} from './typed-views.js';

/** Buffers a pass borrows for one incoming segment and gives back once it is reduced. */
export interface ScratchLender {
  take(bytes: number): Uint8Array;
  give(b: Uint8Array): void;
}

/**
 * A lender of segment buffers for one call: at most one per pass in flight, drawn from the Comm's scratch
 * (warm memory reused across calls) when it has one.
 */
export function segmentLender(comm: Comm, layout: RingLayout, bytesPerElement: number): ScratchLender {
  const cap = Math.ceil(Math.ceil(layout.n / layout.size) / layout.passes) * bytesPerElement;
  const spare: Uint8Array[] = [];
  return {
    take: (bytes) => {
      if (bytes > cap) throw new RangeError(`segment of ${bytes} bytes exceeds the layout's ${cap}`);
      return spare.pop() ?? (comm.scratch ? comm.scratch(cap) : new Uint8Array(cap));
    },
    give: (b) => void spare.push(b),
  };
}

export interface RingLayout {
  readonly n: number;
  readonly size: number;
  readonly passes: number;
}

export function ringLayout(
  n: number,
  size: number,
  bytesPerElement: number,
  segmentBytes: number,
): RingLayout {
  if (!(segmentBytes > 0))
    throw new RangeError(`ring segment size must be positive, got ${segmentBytes} bytes`);
  const maxBlock = Math.ceil(n / size);
  const perSegment = Math.max(1, Math.floor(segmentBytes / bytesPerElement));
  return { n, size, passes: Math.max(1, Math.ceil(maxBlock / perSegment)) };
}

/** Element range [start, end) of segment `pass` of block `block`. */
export function segmentStart(layout: RingLayout, pass: number, block: number): number {
  const lo = blockStart(layout.n, layout.size, block);
  const len = blockStart(layout.n, layout.size, block + 1) - lo;
  return lo + Math.floor((len * pass) / layout.passes);
}

export function segmentEnd(layout: RingLayout, pass: number, block: number): number {
  return segmentStart(layout, pass + 1, block);
}

/** Where a pass's reduction goes. */
export type PassTarget<T extends TypedArray> =
  /** Into new receive buffers; the result is the last of them. */
  | { kind: 'fresh' }
  /**
   * Into x itself, receiving each incoming partial into a borrowed buffer (given back once reduced): no
   * fresh memory per segment, and the result is x's segment. For callers that may write x (all-reduce).
   */
  | { kind: 'in-place'; lender: ScratchLender }
  /**
   * x stays unmodified: partials arrive in borrowed buffers, partials passed on are reduced into the Comm's
   * scratch (kept until the call ends: their sends may still be read), and this rank's segment is reduced
   * straight into `out` (this rank's block, which starts at element `lo` of x).
   */
  | { kind: 'into-out'; lender: ScratchLender; out: T; lo: number };

/**
 * One reduce-scatter pass over the ring (size-1 steps from `stepBase`). At step s rank r sends its partial of
 * block r-s-1 right and reduces the partial of block r-s-2 arriving from the left, so after size-1 steps it
 * holds the complete segment of its own block r. Each segment is reduced exactly once along one chain,
 * incoming partial on the left, so the result has the same bits wherever it is later copied.
 *
 * x is only read, unless the target is 'in-place'. Its first outgoing segment is sent as-is unless `copyFirstSend`: the ring all-reduce gets
 * a causal proof of delivery later (the completed block r-1 comes back around the ring), reduce-scatter
 * does not and must copy.
 */
export async function reduceScatterPass<T extends TypedArray>(
  comm: Comm,
  x: T,
  op: ReduceOp,
  layout: RingLayout,
  pass: number,
  stepBase: number,
  copyFirstSend: boolean,
  algorithm: string,
  target: PassTarget<T> = { kind: 'fresh' },
): Promise<T> {
  const { rank, size } = comm;
  const ctor = ctorOf(x);
  const right = (rank + 1) % size;
  const left = mod(rank - 1, size);
  const first = mod(rank - 1, size);
  const firstView = sliceView(x, segmentStart(layout, pass, first), segmentEnd(layout, pass, first));
  let outgoing = copyFirstSend ? copyBytes(firstView) : bytesOf(firstView);
  let partial: T | undefined;
  for (let s = 0; s < size - 1; s++) {
    const block = mod(rank - s - 2, size);
    const start = segmentStart(layout, pass, block);
    const end = segmentEnd(layout, pass, block);
    const step = stepBase + s;
    const mine = sliceView(x, start, end);
    if (target.kind !== 'fresh' && comm.recvInto) {
      const bytes = (end - start) * x.BYTES_PER_ELEMENT;
      const lent = target.lender.take(bytes);
      await Promise.all([
        comm.send(right, step, outgoing),
        comm.recvInto(left, step, lent.subarray(0, bytes)),
      ]);
      const incoming = viewAs<T>(ctor, lent.subarray(0, bytes), end - start, {
        comm,
        peer: left,
        step,
        algorithm,
      });
      if (target.kind === 'in-place') {
        partial = mine;
      } else if (s === size - 2) {
        partial = sliceView(target.out, start - target.lo, end - target.lo);
      } else {
        partial = scratchLike<T>(comm, ctor, end - start);
      }
      // Same operands in the same order as below (incoming partial on the left): the same bits.
      reduceTo(partial, incoming, mine, op);
      target.lender.give(lent);
      // In place, x is written here only at blocks this rank never sent from x; the reduced segment leaves
      // from x and is overwritten only by the completed block, which arrives after the right neighbour has it.
      outgoing = bytesOf(partial);
      continue;
    }
    const [, buf] = await Promise.all([comm.send(right, step, outgoing), comm.recv(left, step)]);
    partial = viewAs<T>(ctor, buf, end - start, { comm, peer: left, step, algorithm });
    reduceTo(partial, partial, mine, op);
    // The partial is sent next step and never written again.
    outgoing = bytesOf(partial);
  }
  return partial as T;
}
