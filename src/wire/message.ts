/** Whole multipart messages: [header frame, ...payload frames]. */

import { MalformedFrameError, TruncatedFrameError } from './errors.js';
import {
  DEFAULT_LIMITS,
  type DecodeLimits,
  decodeHeader,
  encodeHeader,
  HEADER_BYTES,
  type Header,
  makeHeader,
} from './header.js';
import type { EncodedPayload } from './payload.js';

/**
 * Splits and validates a received multipart message. Payload frames are returned as they arrived (no
 * copy); pass them with the header to decodePayload, or reassemble chunks first.
 */
export function decodeMessage(
  frames: Uint8Array[],
  limits: DecodeLimits = DEFAULT_LIMITS,
): { header: Header; payload: Uint8Array[] } {
  if (frames.length === 0)
    throw new TruncatedFrameError('message: no frames (expected a 64-byte header frame)');
  const first = frames[0];
  if (first.byteLength > HEADER_BYTES) {
    throw new MalformedFrameError(`frame header: ${first.byteLength} bytes (must be ${HEADER_BYTES})`);
  }
  const header = decodeHeader(first, limits);
  const payload = frames.slice(1);
  let got = 0;
  for (let i = 0; i < payload.length; i++) got += payload[i].byteLength;
  if (got < header.payloadBytes) {
    throw new TruncatedFrameError(
      `message: payload frames hold ${got} bytes but payloadBytes is ${header.payloadBytes}`,
    );
  }
  if (got > header.payloadBytes) {
    throw new MalformedFrameError(
      `message: payload frames hold ${got} bytes but payloadBytes is ${header.payloadBytes} (must be equal)`,
    );
  }
  return { header, payload };
}

/**
 * Builds the frames of one message: header fields plus an encoded payload (or none). payloadType, dtype,
 * count and payloadBytes come from the payload; totalBytes defaults to payloadBytes.
 */
export function encodeMessage(
  fields: Partial<Header> & Pick<Header, 'kind'>,
  payload?: EncodedPayload,
): Uint8Array[] {
  const h = makeHeader(fields);
  if (payload === undefined) return [encodeHeader(h)];
  let bytes = 0;
  for (let i = 0; i < payload.frames.length; i++) bytes += payload.frames[i].byteLength;
  h.payloadType = payload.payloadType;
  h.dtype = payload.dtype;
  h.count = payload.count;
  h.payloadBytes = bytes;
  h.totalBytes = fields.totalBytes ?? bytes;
  const frames: Uint8Array[] = [encodeHeader(h)];
  for (let i = 0; i < payload.frames.length; i++) frames.push(payload.frames[i]);
  return frames;
}
