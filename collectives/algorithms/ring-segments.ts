/**
 * Segment layout and the reduce-scatter pass shared by the ring all-reduce and the ring reduce-scatter.
 *
 * Blocks follow the DESIGN.md contract: block b = [floor(n*b/p), floor(n*(b+1)/p)). Each block is cut into
 * `passes` segments of at most ~segmentBytes; pass k moves segment k of every block around the ring. Passes
 * are independent, so several run at once and one pass's reduction overlaps another's transfer.
 */
import type { Comm } from '../comm.js';
import { reduceTo } from '../reduce-kernels.js';
import type { ReduceOp, TypedArray } from '../types.js';
import { blockStart, bytesOf, copyBytes, ctorOf, mod, sliceView, viewAs } from './typed-views.js';

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

/**
 * One reduce-scatter pass over the ring (size-1 steps from `stepBase`). At step s rank r sends its partial of
 * block r-s-1 right and reduces the partial of block r-s-2 arriving from the left, so after size-1 steps it
 * holds the complete segment of its own block r. Each segment is reduced exactly once along one chain,
 * incoming partial on the left, so the result has the same bits wherever it is later copied.
 *
 * x is only read. Its first outgoing segment is sent as-is unless `copyFirstSend`: the ring all-reduce gets
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
  /** The partials may live in the Comm's scratch buffers (the caller copies the result out before returning). */
  scratchResult = false,
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
    let buf: Uint8Array;
    if (scratchResult && comm.scratch && comm.recvInto) {
      // A warm, reused buffer: receiving into fresh memory costs more than the copy itself.
      buf = comm.scratch((end - start) * x.BYTES_PER_ELEMENT);
      await Promise.all([comm.send(right, step, outgoing), comm.recvInto(left, step, buf)]);
    } else {
      [, buf] = await Promise.all([comm.send(right, step, outgoing), comm.recv(left, step)]);
    }
    partial = viewAs<T>(ctor, buf, end - start, { comm, peer: left, step, algorithm });
    reduceTo(partial, partial, sliceView(x, start, end), op);
    // The partial is sent next step and never written again.
    outgoing = bytesOf(partial);
  }
  return partial as T;
}
