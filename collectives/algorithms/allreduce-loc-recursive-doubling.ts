/**
 * MAXLOC / MINLOC all-reduce: per element, the extreme value and the lowest group rank holding it. Value
 * and rank travel together in one message (values, padded to 8 bytes, then the Int32 ranks). Recursive
 * doubling with MPICH's fold for non powers of two (see allreduce-recursive-doubling.ts): ceil(log2 p) + 2
 * steps, each moving n · (element size + 4) bytes.
 *
 * Reproducibility: the combination is a total order (the extreme value wins, a tie goes to the lower rank,
 * NaN beats every number and ties among NaNs go to the lower rank), so it is associative and commutative
 * and every rank ends with the same bits whatever the order of the exchanges.
 */

import type { TypedArray } from '../../src/wire/vocabulary.js';
import type { Comm } from '../comm.js';
import { MessageSizeError } from './message-size-error.js';
import { ctorOf, type TypedArrayConstructor } from './typed-views.js';

const ALGORITHM = 'allreduce-loc-recursive-doubling';

export type LocOp = 'max' | 'min';

export interface LocResult<T extends TypedArray> {
  values: T;
  ranks: Int32Array;
}

const pad8 = (n: number) => Math.ceil(n / 8) * 8;

/** A value/rank pair array packed into one fresh message buffer. */
function pack(values: TypedArray, ranks: Int32Array): Uint8Array {
  const vBytes = pad8(values.byteLength);
  const buf = new Uint8Array(vBytes + ranks.byteLength);
  buf.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), 0);
  buf.set(new Uint8Array(ranks.buffer, ranks.byteOffset, ranks.byteLength), vBytes);
  return buf;
}

interface Packed<T extends TypedArray> {
  bytes: Uint8Array;
  values: T;
  ranks: Int32Array;
}

function unpack<T extends TypedArray>(
  ctor: TypedArrayConstructor,
  buf: Uint8Array,
  n: number,
  where: { comm: Comm; peer: number; step: number },
): Packed<T> {
  const vBytes = pad8(n * ctor.BYTES_PER_ELEMENT);
  const want = vBytes + n * 4;
  if (buf.byteLength !== want) {
    throw new MessageSizeError(ALGORITHM, where.comm.rank, where.peer, where.step, want, buf.byteLength);
  }
  const own = buf.byteOffset % 8 === 0 ? buf : buf.slice();
  return {
    bytes: own,
    values: new ctor(own.buffer as ArrayBuffer, own.byteOffset, n) as T,
    ranks: new Int32Array(own.buffer as ArrayBuffer, own.byteOffset + vBytes, n),
  };
}

/**
 * out = a ⊕ b per element (out may alias a or b). NaN (x !== x) wins; equal values go to the lower rank.
 */
export function combineLoc(
  outV: TypedArray,
  outR: Int32Array,
  aV: TypedArray,
  aR: Int32Array,
  bV: TypedArray,
  bR: Int32Array,
  op: LocOp,
): void {
  const av = aV as unknown as ArrayLike<number>;
  const bv = bV as unknown as ArrayLike<number>;
  const ov = outV as unknown as { [i: number]: number };
  const max = op === 'max';
  for (let i = 0; i < av.length; i++) {
    const x = av[i];
    const y = bv[i];
    const xr = aR[i];
    const yr = bR[i];
    // biome-ignore lint/suspicious/noSelfCompare: NaN test that also works on bigint elements
    const xNaN = x !== x;
    // biome-ignore lint/suspicious/noSelfCompare: as above
    const yNaN = y !== y;
    let takeB: boolean;
    if (xNaN || yNaN) takeB = yNaN && (!xNaN || yr < xr);
    else if (x === y) takeB = yr < xr;
    else takeB = max ? y > x : y < x;
    ov[i] = takeB ? y : x;
    outR[i] = takeB ? yr : xr;
  }
}

export async function allReduceLocRecursiveDoubling<T extends TypedArray>(
  comm: Comm,
  x: T,
  op: LocOp,
): Promise<LocResult<T>> {
  if (op !== 'max' && op !== 'min') {
    throw new TypeError(`${ALGORITHM}: op must be 'max' or 'min', got '${String(op)}'`);
  }
  const { rank, size } = comm;
  const n = x.length;
  const ctor = ctorOf(x);
  const mine = pack(x, new Int32Array(n).fill(rank));
  if (size === 1 || n === 0) return { values: x.slice() as T, ranks: new Int32Array(n) };
  const recv = async (peer: number, step: number) =>
    unpack<T>(ctor, await comm.recv(peer, step), n, { comm, peer, step });

  let pof2 = 1;
  let rounds = 0;
  while (pof2 * 2 <= size) {
    pof2 *= 2;
    rounds++;
  }
  const rem = size - pof2;
  const foldStep = 0;
  const unfoldStep = rounds + 1;

  let cur: Packed<T> | undefined;
  let newRank = -1;
  if (rank < 2 * rem) {
    if (rank % 2 === 0) {
      await comm.send(rank + 1, foldStep, mine);
    } else {
      const lower = await recv(rank - 1, foldStep);
      const own = unpack<T>(ctor, mine, n, { comm, peer: rank, step: foldStep });
      combineLoc(lower.values, lower.ranks, lower.values, lower.ranks, own.values, own.ranks, op);
      cur = lower;
      newRank = rank >> 1;
    }
  } else {
    cur = unpack<T>(ctor, mine, n, { comm, peer: rank, step: foldStep });
    newRank = rank - rem;
  }

  if (cur !== undefined) {
    let step = 1;
    for (let mask = 1; mask < pof2; mask <<= 1, step++) {
      const partnerNew = newRank ^ mask;
      const peer = partnerNew < rem ? partnerNew * 2 + 1 : partnerNew + rem;
      // cur is never written once sent; the combination goes into the received buffer, which we own.
      const sent = comm.send(peer, step, cur.bytes);
      const other = await recv(peer, step);
      await sent;
      combineLoc(other.values, other.ranks, cur.values, cur.ranks, other.values, other.ranks, op);
      cur = other;
    }
    if (rank < 2 * rem) await comm.send(rank - 1, unfoldStep, cur.bytes);
    // Copies: the last buffer may still be on its way to a peer, and the caller gets plain arrays.
    return { values: cur.values.slice() as T, ranks: cur.ranks.slice() };
  }
  const result = await recv(rank + 1, unfoldStep);
  return { values: result.values.slice() as T, ranks: result.ranks.slice() };
}
