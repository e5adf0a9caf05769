/**
 * All-reduce for large messages: segmented ring, reduce-scatter then all-gather (bandwidth-optimal: each
 * rank sends 2(p-1)/p of the vector). Blocks are split into segments (default 1 MiB) and `pipelineDepth`
 * segment passes run at once, so reducing one segment overlaps the transfer of the next.
 *
 * Bitwise reproducibility: each segment is reduced once, on one rank, and then only copied.
 */

import type { ReduceOp, TypedArray } from '../../src/wire/vocabulary.js';
import type { Comm } from '../comm.js';
import { assertOpSupported, finishAvg } from '../reduce-kernels.js';
import { reduceScatterPass, ringLayout, segmentEnd, segmentLender, segmentStart } from './ring-segments.js';
import { bytesOf, copyInto, ctorOf, mod, recvIntoView, sliceView, viewAs } from './typed-views.js';
import { runWindowed } from './windowed.js';

const ALGORITHM = 'allreduce-ring';

export const DEFAULT_RING_SEGMENT_BYTES = 1 << 20;
export const DEFAULT_RING_PIPELINE_DEPTH = 2;

export interface RingOptions {
  /** Upper bound on the bytes of one ring message (one segment of one block). */
  segmentBytes?: number;
  /** Segment passes in flight at once. */
  pipelineDepth?: number;
}

export async function allReduceRing<T extends TypedArray>(
  comm: Comm,
  x: T,
  op: ReduceOp,
  options: RingOptions = {},
): Promise<T> {
  assertOpSupported(x, op);
  const { rank, size } = comm;
  const n = x.length;
  if (size === 1 || n === 0) return x;
  const ctor = ctorOf(x);
  const layout = ringLayout(n, size, x.BYTES_PER_ELEMENT, options.segmentBytes ?? DEFAULT_RING_SEGMENT_BYTES);
  const right = (rank + 1) % size;
  const left = mod(rank - 1, size);
  const stepsPerPass = 2 * (size - 1);
  const lender = comm.sendsCompleteOnReturn ? segmentLender(comm, layout, x.BYTES_PER_ELEMENT) : undefined;

  await runWindowed(layout.passes, options.pipelineDepth ?? DEFAULT_RING_PIPELINE_DEPTH, async (pass) => {
    const base = pass * stepsPerPass;
    // x's segment of block rank-1 goes out uncopied: we overwrite it only after the completed block rank-1
    // arrives below, and its reduction chain passed through rank+1 after rank+1 received our segment.
    const mine = await reduceScatterPass(
      comm,
      x,
      op,
      layout,
      pass,
      base,
      false,
      ALGORITHM,
      lender && { kind: 'in-place', lender },
    );
    // 'avg' divides here, once, on the segment's owner: the completed segments are forwarded from x, so
    // dividing x at the end would alter bytes still on their way to the next rank.
    if (op === 'avg') finishAvg(mine, size);
    if (mine.buffer !== x.buffer) copyInto(x, segmentStart(layout, pass, rank), mine);
    // The completed segments travel in buffers we own and never write; x only receives copies of them, so
    // the caller may reuse x as soon as we return. When the Comm delivers before the call returns, they
    // land straight in x and are forwarded from there (x is not written at a segment once it arrived).
    let outgoing = bytesOf(mine);
    for (let s = 0; s < size - 1; s++) {
      const block = mod(rank - s - 1, size);
      const start = segmentStart(layout, pass, block);
      const end = segmentEnd(layout, pass, block);
      const step = base + size - 1 + s;
      if (comm.sendsCompleteOnReturn) {
        const [, got] = await Promise.all([
          comm.send(right, step, outgoing),
          recvIntoView(comm, left, step, sliceView(x, start, end), ALGORITHM),
        ]);
        outgoing = got;
        continue;
      }
      const [, buf] = await Promise.all([comm.send(right, step, outgoing), comm.recv(left, step)]);
      const done = viewAs<T>(ctor, buf, end - start, {
        comm,
        peer: left,
        step,
        algorithm: ALGORITHM,
      });
      copyInto(x, start, done);
      outgoing = buf;
    }
  });
  return x;
}
