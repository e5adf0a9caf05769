/**
 * Byte-level helpers shared by the algorithms: views between typed arrays and the Uint8Array payloads the
 * Comm carries, block boundaries, and the private copies that the zero-copy rule requires.
 */

import type { TypedArray } from '../../src/wire/vocabulary.js';
import type { Comm } from '../comm.js';
import { MessageSizeError } from './message-size-error.js';

export type TypedArrayConstructor =
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Int8ArrayConstructor
  | Int16ArrayConstructor
  | Int32ArrayConstructor
  | Uint8ArrayConstructor
  | Uint16ArrayConstructor
  | Uint32ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

export function ctorOf<T extends TypedArray>(x: T): TypedArrayConstructor {
  return x.constructor as TypedArrayConstructor;
}

/** A Uint8Array over the same memory as `x` (no copy). */
export function bytesOf(x: TypedArray): Uint8Array {
  return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
}

/** A fresh, private copy of the bytes of `x`: what to send when `x` may change before the peer has it. */
export function copyBytes(x: TypedArray): Uint8Array {
  return new Uint8Array(x.buffer, x.byteOffset, x.byteLength).slice();
}

/** A view of `x` from element `start` (inclusive) to `end` (exclusive), typed like `x`. */
export function sliceView<T extends TypedArray>(x: T, start: number, end: number): T {
  return x.subarray(start, end) as T;
}

/** A new zero-filled array of `length` elements of the given dtype. */
export function allocLike<T extends TypedArray>(ctor: TypedArrayConstructor, length: number): T {
  return new ctor(length) as T;
}

/**
 * A new array of `length` elements whose contents are unspecified: for outputs the algorithm overwrites
 * completely (all-gather results), where zero-filling hundreds of MiB would cost as much as a copy.
 */
export function allocUninitialized<T extends TypedArray>(ctor: TypedArrayConstructor, length: number): T {
  const bytes = length * ctor.BYTES_PER_ELEMENT;
  const buf = Buffer.allocUnsafeSlow(bytes);
  return new ctor(buf.buffer as ArrayBuffer, buf.byteOffset, length) as T;
}

/**
 * An array of `length` elements, contents unspecified, that is the algorithm's until the call returns: the
 * Comm's reused scratch memory when it lends some (fresh memory costs far more to touch than warm memory),
 * else a new array.
 */
export function scratchLike<T extends TypedArray>(
  comm: Comm,
  ctor: TypedArrayConstructor,
  length: number,
): T {
  if (!comm.scratch) return allocUninitialized<T>(ctor, length);
  const buf = comm.scratch(length * ctor.BYTES_PER_ELEMENT);
  return new ctor(buf.buffer as ArrayBuffer, buf.byteOffset, length) as T;
}

/** Copies `parts` one after another into `out` (their total length) and returns the views of out they fill. */
export function placeInto<T extends TypedArray>(out: T, parts: readonly T[]): T[] {
  let at = 0;
  return parts.map((p) => {
    out.set(p as never, at);
    at += p.length;
    return out.subarray(at - p.length, at) as T;
  });
}

/** Copies the elements of `src` into `dst` starting at element `at` (byte copy; same dtype). */
export function copyInto(dst: TypedArray, at: number, src: TypedArray): void {
  new Uint8Array(dst.buffer, dst.byteOffset + at * dst.BYTES_PER_ELEMENT, src.byteLength).set(bytesOf(src));
}

/**
 * Views a received buffer as `count` elements of `ctor`. Receive buffers are 8-byte aligned by contract;
 * if one is not, it is copied so the view is always legal. A size other than `count` elements means the
 * ranks disagree about lengths, which is reported rather than silently truncated.
 */
export function viewAs<T extends TypedArray>(
  ctor: TypedArrayConstructor,
  buf: Uint8Array,
  count: number,
  where: { comm: Comm; peer: number; step: number; algorithm: string },
): T {
  const bpe = ctor.BYTES_PER_ELEMENT;
  if (buf.byteLength !== count * bpe) {
    throw new MessageSizeError(
      where.algorithm,
      where.comm.rank,
      where.peer,
      where.step,
      count * bpe,
      buf.byteLength,
    );
  }
  const aligned = buf.byteOffset % bpe === 0 ? buf : buf.slice();
  return new ctor(aligned.buffer as ArrayBuffer, aligned.byteOffset, count) as T;
}

/** First element of block `r` when `n` elements are split over `size` blocks (docs/ARCHITECTURE.md "Public API"). */
export function blockStart(n: number, size: number, r: number): number {
  return Math.floor((n * r) / size);
}

/** Positive modulo, for ring arithmetic. */
export function mod(a: number, m: number): number {
  const r = a % m;
  return r < 0 ? r + m : r;
}

/**
 * Receives the `target.length` elements `peer` sent with `step` straight into `target` when the Comm can
 * (no intermediate buffer), else through recv + copy. Returns target's bytes, which the caller may forward.
 */
export async function recvIntoView(
  comm: Comm,
  peer: number,
  step: number,
  target: TypedArray,
  algorithm: string,
): Promise<Uint8Array> {
  const dst = bytesOf(target);
  if (comm.recvInto) {
    await comm.recvInto(peer, step, dst);
    return dst;
  }
  const buf = await comm.recv(peer, step);
  if (buf.byteLength !== dst.byteLength) {
    throw new MessageSizeError(algorithm, comm.rank, peer, step, dst.byteLength, buf.byteLength);
  }
  dst.set(buf);
  return dst;
}

/** What to send of memory the algorithm will not modify during the call: the memory itself when the
 * Comm guarantees delivery before the call returns, else a private copy (the caller may reuse it). */
export function sendableBytes(comm: Comm, x: TypedArray): Uint8Array {
  return comm.sendsCompleteOnReturn ? bytesOf(x) : copyBytes(x);
}
