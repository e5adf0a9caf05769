/**
 * Broadcast for large messages (van de Geijn): binomial scatter of the vector's p blocks, then a ring
 * all-gather. Each rank sends about 2x the vector instead of log2(p) x, and every link is busy in every
 * step of the ring. Blocks are numbered by relative rank (rank - root mod p): block j =
 * [floor(n*j/p), floor(n*(j+1)/p)). In place on every rank.
 */

import type { TypedArray } from '../../src/wire/vocabulary.js';
import type { Comm } from '../comm.js';
import { checkRoot } from './check-root.js';
import {
  blockStart,
  bytesOf,
  copyBytes,
  copyInto,
  ctorOf,
  mod,
  recvIntoView,
  sliceView,
  viewAs,
} from './typed-views.js';

const ALGORITHM = 'broadcast-scatter-allgather';

export async function broadcastScatterAllGather<T extends TypedArray>(
  comm: Comm,
  x: T,
  root: number,
): Promise<T> {
  const { rank, size } = comm;
  checkRoot(comm, root, ALGORITHM);
  const n = x.length;
  if (size === 1 || n === 0) return x;
  const ctor = ctorOf(x);
  const relative = mod(rank - root, size);
  const absolute = (rel: number) => mod(rel + root, size);
  const start = (block: number) => blockStart(n, size, block);
  if (comm.sendsCompleteOnReturn && comm.recvInto) return broadcastIntoX(comm, x, root);

  // Scatter (step 0): relative rank v receives blocks [v, v + lowbit(v)) from v - lowbit(v) and passes the
  // upper halves of that range on to v + m for m = lowbit(v)/2 ... 1.
  let held: T; // elements [start(relative), start(relative + span)) of the vector
  let span: number;
  if (relative === 0) {
    // Sent without copies: every scattered range starts with its receiver's own block, which comes back to
    // the root in the ring below only after that receiver got the range.
    held = x;
    span = 1;
    while (span < size) span <<= 1;
  } else {
    span = relative & -relative;
    const parent = absolute(relative - span);
    const count = start(Math.min(relative + span, size)) - start(relative);
    held = viewAs<T>(ctor, await comm.recv(parent, 0), count, {
      comm,
      peer: parent,
      step: 0,
      algorithm: ALGORITHM,
    });
  }
  const base = relative === 0 ? 0 : start(relative);
  const sends: Promise<void>[] = [];
  for (let m = span >> 1; m > 0; m >>= 1) {
    const child = relative + m;
    if (child >= size) continue;
    const range = sliceView(held, start(child) - base, start(Math.min(child + m, size)) - base);
    sends.push(comm.send(absolute(child), 0, bytesOf(range)));
  }
  await Promise.all(sends);

  // Ring all-gather over relative ranks (steps 1..p-1).
  const own = sliceView(held, 0, start(relative + 1) - start(relative));
  if (relative !== 0) copyInto(x, start(relative), own);
  const right = absolute(relative + 1);
  const left = absolute(relative - 1);
  // The root's own block would travel right and never come back: send a copy of it.
  let outgoing = relative === 0 ? copyBytes(own) : bytesOf(own);
  for (let s = 0; s < size - 1; s++) {
    const block = mod(relative - s - 1, size);
    const step = s + 1;
    const [, buf] = await Promise.all([comm.send(right, step, outgoing), comm.recv(left, step)]);
    const data = viewAs<T>(ctor, buf, start(block + 1) - start(block), {
      comm,
      peer: left,
      step,
      algorithm: ALGORITHM,
    });
    if (relative !== 0) copyInto(x, start(block), data);
    // Forwarded in the buffer it came in, which we own and never write.
    outgoing = buf;
  }
  return x;
}

/**
 * The same schedule when the Comm delivers before the call returns and can receive in place: every range
 * lands straight in x and is forwarded from there, so no rank allocates or copies a block (fresh memory
 * is what large messages cost most here). The root sends from x uncopied; x is not written while the call
 * runs, except by the ring handing the root bytes it already holds.
 */
async function broadcastIntoX<T extends TypedArray>(comm: Comm, x: T, root: number): Promise<T> {
  const { rank, size } = comm;
  const n = x.length;
  const relative = mod(rank - root, size);
  const absolute = (rel: number) => mod(rel + root, size);
  const start = (block: number) => blockStart(n, size, block);
  let span = 1;
  if (relative === 0) {
    while (span < size) span <<= 1;
  } else {
    span = relative & -relative;
    const range = sliceView(x, start(relative), start(Math.min(relative + span, size)));
    await recvIntoView(comm, absolute(relative - span), 0, range, ALGORITHM);
  }
  const sends: Promise<void>[] = [];
  for (let m = span >> 1; m > 0; m >>= 1) {
    const child = relative + m;
    if (child >= size) continue;
    sends.push(
      comm.send(absolute(child), 0, bytesOf(sliceView(x, start(child), start(Math.min(child + m, size))))),
    );
  }
  await Promise.all(sends);
  const right = absolute(relative + 1);
  const left = absolute(relative - 1);
  let outgoing = bytesOf(sliceView(x, start(relative), start(relative + 1)));
  for (let s = 0; s < size - 1; s++) {
    const block = mod(relative - s - 1, size);
    const target = sliceView(x, start(block), start(block + 1));
    const step = s + 1;
    if (relative === 0) {
      // The root holds every block: it forwards from x and only consumes what arrives (into a reused buffer).
      const bytes = target.byteLength;
      const sink = comm.scratch ? comm.scratch(bytes) : new Uint8Array(bytes);
      await Promise.all([
        comm.send(right, step, outgoing),
        recvIntoView(comm, left, step, new Uint8Array(sink.buffer, sink.byteOffset, bytes), ALGORITHM),
      ]);
      outgoing = bytesOf(target);
      continue;
    }
    const [, got] = await Promise.all([
      comm.send(right, step, outgoing),
      recvIntoView(comm, left, step, target, ALGORITHM),
    ]);
    outgoing = got;
  }
  return x;
}
