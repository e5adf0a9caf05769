/**
 * The first round of an all-gather whose ranks may contribute different lengths: every rank sends every
 * other rank its length in one direct message, and its data with it when that is at most `eagerBytes`.
 * Everyone then knows every length; when every contribution was small (the usual case for metrics and
 * objects) the all-gather is complete after this one round, where learning the lengths first (an all-gather
 * of one number) and then gathering took two.
 *
 * Cost: one round; p-1 messages of 8 + (n·bytes if eager) bytes per rank, so select.ts uses it only for
 * small groups. Reproducibility: data is only copied.
 */

import type { TypedArray } from '../../src/wire/vocabulary.js';
import type { Comm } from '../comm.js';
import { MessageSizeError } from './message-size-error.js';
import { ctorOf, placeInto } from './typed-views.js';

const ALGORITHM = 'allgather-announce';
const LENGTH_BYTES = 8;

export interface Announced<T extends TypedArray> {
  /** Every rank's element count. */
  counts: number[];
  /**
   * Every rank's data when every rank's was at most eagerBytes: views of `out` when it was given and its
   * length is the counts' sum, else arrays of their own (this rank's a copy of x).
   */
  parts?: T[];
}

/**
 * With `out`, each peer's message is offered a buffer of this rank's own message size from the Comm's
 * scratch (warm memory; most all-gathers contribute equal lengths, and then the transport fills it in
 * place), and the parts are copied into out from there.
 */
export async function allGatherAnnounce<T extends TypedArray>(
  comm: Comm,
  x: T,
  eagerBytes: number,
  out?: T,
): Promise<Announced<T>> {
  const { rank, size } = comm;
  const bpe = x.BYTES_PER_ELEMENT;
  const eager = (count: number) => count * bpe <= eagerBytes;
  const mine = eager(x.length) ? x.byteLength : 0;
  // Its own buffer: nothing answers these messages, so x must not be sent uncopied. Lent scratch when
  // every send is complete before the call returns (the group reuses scratch after it).
  const message = lend(comm, LENGTH_BYTES + mine, comm.sendsCompleteOnReturn === true);
  new DataView(message.buffer).setFloat64(0, x.length, true);
  if (mine) message.set(new Uint8Array(x.buffer, x.byteOffset, mine), LENGTH_BYTES);

  const counts: number[] = new Array(size);
  const received: Array<Uint8Array | undefined> = new Array(size);
  counts[rank] = x.length;
  const sends: Promise<void>[] = [];
  for (let peer = 0; peer < size; peer++) if (peer !== rank) sends.push(comm.send(peer, 0, message));
  await Promise.all([
    ...sends,
    ...Array.from({ length: size }, async (_, peer) => {
      if (peer === rank) return;
      const buf = await comm.recv(peer, 0, out && lend(comm, message.byteLength, true));
      if (buf.byteLength < LENGTH_BYTES) {
        throw new MessageSizeError(ALGORITHM, rank, peer, 0, LENGTH_BYTES, buf.byteLength);
      }
      const count = new DataView(buf.buffer, buf.byteOffset, LENGTH_BYTES).getFloat64(0, true);
      const expected = LENGTH_BYTES + (eager(count) ? count * bpe : 0);
      if (!Number.isSafeInteger(count) || count < 0 || buf.byteLength !== expected) {
        throw new MessageSizeError(ALGORITHM, rank, peer, 0, expected, buf.byteLength);
      }
      counts[peer] = count;
      received[peer] = buf;
    }),
  ]);
  if (!counts.every(eager)) return { counts };
  const ctor = ctorOf(x);
  // Receive buffers are 8-byte aligned; the data starts 8 bytes in. Views of lent scratch are valid only
  // until the call returns: they are placed into out, or copied.
  const views = Array.from({ length: size }, (_, peer) => {
    const buf = received[peer];
    if (peer === rank || !buf) return x;
    return new ctor(buf.buffer as ArrayBuffer, buf.byteOffset + LENGTH_BYTES, counts[peer]) as T;
  });
  if (out && out.length === counts.reduce((a, b) => a + b, 0))
    return { counts, parts: placeInto(out, views) };
  const parts = views.map((v, peer) => (peer === rank || (out && v !== x) ? (v.slice() as T) : v));
  return { counts, parts };
}

/** `bytes` of the Comm's scratch when it lends some and `ok`, else a new buffer. */
function lend(comm: Comm, bytes: number, ok: boolean): Uint8Array {
  return ok && comm.scratch ? comm.scratch(bytes) : new Uint8Array(bytes);
}
