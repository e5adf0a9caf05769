/**
 * Payload values <-> payload frames. Typed arrays travel as their own bytes (zero-copy on send, and on
 * receive whenever the frame is aligned), Arrow tables as an IPC stream, everything else via v8.serialize.
 */
import { deserialize, serialize } from 'node:v8';
import { Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import { checkArrowStream } from './arrow-check.js';
import { allocTyped, bytesOf, bytesPerElement, dtypeName, dtypeOrUndefined, typedArrayFor } from './dtype.js';
import { DType, PayloadType } from './enums.js';
import { MalformedFrameError, WireTypeError } from './errors.js';
import type { Header } from './header.js';

export interface EncodedPayload {
  payloadType: PayloadType;
  dtype: DType;
  /** Elements for Typed, rows for Arrow, 0 otherwise. */
  count: number;
  frames: Uint8Array[];
}

export function encodePayload(value: unknown): EncodedPayload {
  const dtype = dtypeOrUndefined(value);
  if (dtype !== undefined) {
    const x = value as Parameters<typeof bytesOf>[0];
    return { payloadType: PayloadType.Typed, dtype, count: x.length, frames: [bytesOf(x)] };
  }
  if (value instanceof Table) {
    return {
      payloadType: PayloadType.Arrow,
      dtype: DType.None,
      count: value.numRows,
      frames: [tableToIPC(value, 'stream')],
    };
  }
  let bytes: Buffer;
  try {
    bytes = serialize(value);
  } catch (err) {
    throw new WireTypeError(
      `encodePayload: value cannot be sent (${(err as Error).message}); send typed arrays, Arrow tables or ` +
        'structured-cloneable values (no functions, symbols or class instances with native state)',
    );
  }
  return { payloadType: PayloadType.V8, dtype: DType.None, count: 0, frames: [bytes] };
}

function totalLength(frames: Uint8Array[]): number {
  let n = 0;
  for (let i = 0; i < frames.length; i++) n += frames[i].byteLength;
  return n;
}

/** One contiguous view of the frames; no copy when there is exactly one frame. */
function joined(frames: Uint8Array[], total: number): Uint8Array {
  if (frames.length === 1) return frames[0];
  const out = new Uint8Array(total);
  let o = 0;
  for (let i = 0; i < frames.length; i++) {
    out.set(frames[i], o);
    o += frames[i].byteLength;
  }
  return out;
}

function decodeTyped(p: Pick<Header, 'dtype' | 'count'>, frames: Uint8Array[], total: number): unknown {
  if (p.dtype === DType.None || p.dtype > DType.BigUint64) {
    throw new MalformedFrameError(
      `typed payload: dtype is ${dtypeName(p.dtype)} (must name an element type)`,
    );
  }
  const width = bytesPerElement(p.dtype);
  if (total % width !== 0) {
    throw new MalformedFrameError(
      `typed payload: ${total} bytes is not a multiple of the ${dtypeName(p.dtype)} element width ${width}`,
    );
  }
  if (p.count * width !== total) {
    throw new MalformedFrameError(
      `typed payload: count is ${p.count} ${dtypeName(p.dtype)} elements but the frames hold ${total / width}`,
    );
  }
  if (frames.length === 1) return typedArrayFor(p.dtype, frames[0]);
  const out = allocTyped(p.dtype, p.count);
  const dst = bytesOf(out);
  let o = 0;
  for (let i = 0; i < frames.length; i++) {
    dst.set(frames[i], o);
    o += frames[i].byteLength;
  }
  return out;
}

/** Turns payload frames back into the value encodePayload was given. Bad bytes throw MalformedFrameError. */
export function decodePayload(
  p: Pick<Header, 'payloadType' | 'dtype' | 'count'>,
  frames: Uint8Array[],
): unknown {
  const total = totalLength(frames);
  switch (p.payloadType) {
    case PayloadType.None:
      if (total !== 0)
        throw new MalformedFrameError(`payload: payloadType is None but ${total} payload bytes arrived`);
      return undefined;
    case PayloadType.Typed:
      return decodeTyped(p, frames, total);
    case PayloadType.Arrow: {
      const bytes = joined(frames, total);
      checkArrowStream(bytes);
      let table: Table;
      try {
        table = tableFromIPC(bytes);
      } catch (err) {
        throw new MalformedFrameError(
          `arrow payload: not a valid Arrow IPC stream (${(err as Error).message})`,
        );
      }
      return table;
    }
    case PayloadType.V8:
      try {
        return deserialize(joined(frames, total));
      } catch (err) {
        throw new MalformedFrameError(
          `v8 payload: cannot deserialize ${total} bytes (${(err as Error).message})`,
        );
      }
    case PayloadType.Bytes:
      return joined(frames, total);
    default:
      throw new MalformedFrameError(
        `payload: payloadType is ${p.payloadType} (must be 0..${PayloadType.Bytes})`,
      );
  }
}
