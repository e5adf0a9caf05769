/**
 * The 64-byte little-endian frame header: layout, defaults, encode and validating decode.
 * Encode and decode run once per message on the hot path, so fields are read and written byte by byte
 * (no DataView or BigInt per call) and the only allocation is the result.
 */

import { dtypeName } from './dtype.js';
import {
  CollectiveOp,
  type DType,
  Flags,
  KNOWN_FLAGS_V1,
  MAGIC,
  MAX_COLLECTIVE_OP,
  MAX_DTYPE,
  MAX_MESSAGE_KIND,
  MAX_PAYLOAD_TYPE,
  MAX_RED_OP,
  MessageKind,
  PayloadType,
  PROTOCOL_VERSION,
  type RedOp,
} from './enums.js';
import {
  HeaderRangeError,
  MalformedFrameError,
  OversizeFrameError,
  TruncatedFrameError,
  UnsupportedVersionError,
} from './errors.js';

export const HEADER_BYTES = 64;

export interface Header {
  version: number;
  kind: MessageKind;
  group: number;
  seq: number;
  op: number;
  dtype: DType;
  redop: RedOp;
  payloadType: PayloadType;
  count: number;
  source: number;
  tag: number;
  root: number;
  step: number;
  chunk: number;
  nchunks: number;
  totalBytes: number;
  payloadBytes: number;
  flags: number;
}

/** What a receiver accepts before allocating anything for a message. */
export interface DecodeLimits {
  /** Largest payloadBytes of one message. */
  maxPayloadBytes: number;
  /** Largest totalBytes of a chunked logical payload; defaults to maxPayloadBytes. */
  maxTotalBytes?: number;
}

export const DEFAULT_LIMITS: DecodeLimits = { maxPayloadBytes: 1024 ** 3 + 64 * 1024 };

const TWO_32 = 0x1_0000_0000;
// Largest high word of a u64 whose value is still a safe integer (2^53 - 1).
const SAFE_HIGH_MAX = 0x1f_ffff;
const WIDTHS: readonly number[] = [0, 4, 8, 1, 2, 4, 1, 2, 4, 8, 8];

/** A header with every field not given set to 0, except version (1), nchunks (1) and totalBytes (= payloadBytes). */
export function makeHeader(fields: Partial<Header> & Pick<Header, 'kind'>): Header {
  const payloadBytes = fields.payloadBytes ?? 0;
  // Literal with every field in one order so all headers share one hidden class.
  return {
    version: fields.version ?? PROTOCOL_VERSION,
    kind: fields.kind,
    group: fields.group ?? 0,
    seq: fields.seq ?? 0,
    op: fields.op ?? 0,
    dtype: fields.dtype ?? 0,
    redop: fields.redop ?? 0,
    payloadType: fields.payloadType ?? 0,
    count: fields.count ?? 0,
    source: fields.source ?? 0,
    tag: fields.tag ?? 0,
    root: fields.root ?? 0,
    step: fields.step ?? 0,
    chunk: fields.chunk ?? 0,
    nchunks: fields.nchunks ?? 1,
    totalBytes: fields.totalBytes ?? payloadBytes,
    payloadBytes,
    flags: fields.flags ?? 0,
  };
}

function rangeError(field: string, value: number, range: string): never {
  throw new HeaderRangeError(`encodeHeader: ${field} is ${value} (must be an integer in ${range})`);
}

function checkU8(field: string, v: number): void {
  if ((v & 0xff) !== v) rangeError(field, v, '0..255');
}

function checkU32(field: string, v: number): void {
  if (v >>> 0 !== v) rangeError(field, v, '0..4294967295');
}

function checkU64(field: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) rangeError(field, v, '0..Number.MAX_SAFE_INTEGER');
}

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
  b[o + 2] = v >>> 16;
  b[o + 3] = v >>> 24;
}

function get32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

function put64(b: Uint8Array, o: number, v: number): void {
  put32(b, o, v >>> 0);
  put32(b, o + 4, Math.floor(v / TWO_32));
}

/** Writes h into out (or a new 64-byte Buffer) after checking every field's range and consistency. */
export function encodeHeader(h: Header, out?: Buffer): Buffer {
  if (h.version !== PROTOCOL_VERSION) {
    throw new HeaderRangeError(
      `encodeHeader: version is ${h.version} (this tsrun writes version ${PROTOCOL_VERSION})`,
    );
  }
  checkU8('kind', h.kind);
  checkU32('group', h.group);
  checkU32('seq', h.seq);
  checkU8('op', h.op);
  checkU8('dtype', h.dtype);
  checkU8('redop', h.redop);
  checkU8('payloadType', h.payloadType);
  checkU64('count', h.count);
  checkU32('source', h.source);
  if ((h.tag | 0) !== h.tag) rangeError('tag', h.tag, '-2147483648..2147483647');
  checkU32('root', h.root);
  checkU32('step', h.step);
  checkU32('chunk', h.chunk);
  checkU32('nchunks', h.nchunks);
  checkU64('totalBytes', h.totalBytes);
  checkU32('payloadBytes', h.payloadBytes);
  checkU32('flags', h.flags);
  checkConsistency(h, 'encodeHeader');
  const b = out ?? Buffer.allocUnsafe(HEADER_BYTES);
  if (b.byteLength < HEADER_BYTES) {
    throw new HeaderRangeError(
      `encodeHeader: output buffer has ${b.byteLength} bytes (needs ${HEADER_BYTES})`,
    );
  }
  b[0] = MAGIC & 0xff;
  b[1] = MAGIC >>> 8;
  b[2] = h.version;
  b[3] = h.kind;
  put32(b, 4, h.group);
  put32(b, 8, h.seq);
  b[12] = h.op;
  b[13] = h.dtype;
  b[14] = h.redop;
  b[15] = h.payloadType;
  put64(b, 16, h.count);
  put32(b, 24, h.source);
  put32(b, 28, h.tag);
  put32(b, 32, h.root);
  put32(b, 36, h.step);
  put32(b, 40, h.chunk);
  put32(b, 44, h.nchunks);
  put64(b, 48, h.totalBytes);
  put32(b, 56, h.payloadBytes);
  put32(b, 60, h.flags);
  return b;
}

/**
 * Reads and validates the header at the start of buf. Length fields are checked against `limits`
 * here, before any caller sizes a buffer from them.
 */
export function decodeHeader(buf: Uint8Array, limits: DecodeLimits = DEFAULT_LIMITS): Header {
  if (buf.byteLength < HEADER_BYTES) {
    throw new TruncatedFrameError(`frame header: ${buf.byteLength} bytes (must be ${HEADER_BYTES})`);
  }
  const magic = buf[0] | (buf[1] << 8);
  if (magic !== MAGIC) {
    throw new MalformedFrameError(
      `frame header: magic is 0x${magic.toString(16).padStart(4, '0')} (must be 0x${MAGIC.toString(16)}; ` +
        'is the peer a tsrun process?)',
    );
  }
  if (buf[2] !== PROTOCOL_VERSION) throw new UnsupportedVersionError(buf[2], PROTOCOL_VERSION);
  const countHigh = get32(buf, 20);
  if (countHigh > SAFE_HIGH_MAX) {
    throw new MalformedFrameError(
      `frame header: count is ${countHigh * TWO_32 + get32(buf, 16)} (must be ≤ Number.MAX_SAFE_INTEGER)`,
    );
  }
  const payloadBytes = get32(buf, 56);
  if (payloadBytes > limits.maxPayloadBytes) {
    throw new OversizeFrameError(
      `frame header: payloadBytes is ${payloadBytes} (limit ${limits.maxPayloadBytes}; raise maxPayloadBytes or send in chunks)`,
    );
  }
  const totalHigh = get32(buf, 52);
  const totalBytes = totalHigh * TWO_32 + get32(buf, 48);
  const maxTotal = limits.maxTotalBytes ?? limits.maxPayloadBytes;
  if (totalHigh > SAFE_HIGH_MAX || totalBytes > maxTotal) {
    throw new OversizeFrameError(`frame header: totalBytes is ${totalBytes} (limit ${maxTotal})`);
  }
  const h: Header = {
    version: buf[2],
    kind: buf[3] as MessageKind,
    group: get32(buf, 4),
    seq: get32(buf, 8),
    op: buf[12],
    dtype: buf[13] as DType,
    redop: buf[14] as RedOp,
    payloadType: buf[15] as PayloadType,
    count: countHigh * TWO_32 + get32(buf, 16),
    source: get32(buf, 24),
    tag: get32(buf, 28) | 0,
    root: get32(buf, 32),
    step: get32(buf, 36),
    chunk: get32(buf, 40),
    nchunks: get32(buf, 44),
    totalBytes,
    payloadBytes,
    flags: get32(buf, 60),
  };
  checkConsistency(h, 'frame header');
  return h;
}

function malformed(where: string, what: string): never {
  throw new MalformedFrameError(`${where}: ${what}`);
}

/** Rules every v1 header obeys, whether we are about to send it or just received it. */
function checkConsistency(h: Header, where: string): void {
  if (h.kind < 1 || h.kind > MAX_MESSAGE_KIND)
    malformed(where, `kind is ${h.kind} (must be 1..${MAX_MESSAGE_KIND})`);
  if (h.kind === MessageKind.Collective && (h.op < CollectiveOp.AllReduce || h.op > MAX_COLLECTIVE_OP)) {
    malformed(
      where,
      `op is ${h.op} for a collective message (must be a CollectiveOp, 1..${MAX_COLLECTIVE_OP})`,
    );
  }
  if (h.dtype > MAX_DTYPE) malformed(where, `dtype is ${h.dtype} (must be 0..${MAX_DTYPE})`);
  if (h.redop > MAX_RED_OP) malformed(where, `redop is ${h.redop} (must be 0..${MAX_RED_OP})`);
  if (h.payloadType > MAX_PAYLOAD_TYPE) {
    malformed(where, `payloadType is ${h.payloadType} (must be 0..${MAX_PAYLOAD_TYPE})`);
  }
  if (h.nchunks === 0) malformed(where, 'nchunks is 0 (must be ≥ 1)');
  if (h.chunk >= h.nchunks)
    malformed(where, `chunk is ${h.chunk} but nchunks is ${h.nchunks} (must be chunk < nchunks)`);
  if (h.totalBytes < h.payloadBytes) {
    malformed(
      where,
      `totalBytes is ${h.totalBytes} but payloadBytes is ${h.payloadBytes} (must be totalBytes ≥ payloadBytes)`,
    );
  }
  if ((h.flags & Flags.Compressed) !== 0)
    malformed(where, 'flags has Compressed (2) set (reserved, must be 0 in v1)');
  if ((h.flags & ~KNOWN_FLAGS_V1) !== 0) {
    malformed(
      where,
      `flags is 0x${h.flags.toString(16)} (unknown bits 0x${(h.flags & ~KNOWN_FLAGS_V1).toString(16)} must be 0 in v1)`,
    );
  }
  if (h.payloadType === PayloadType.None && h.payloadBytes !== 0) {
    malformed(where, `payloadType is None but payloadBytes is ${h.payloadBytes} (must be 0)`);
  }
  if (h.payloadType === PayloadType.Typed) {
    const width = WIDTHS[h.dtype];
    if (width === 0)
      malformed(where, 'payloadType is Typed but dtype is None (a typed payload needs a dtype)');
    if (h.payloadBytes % width !== 0) {
      malformed(
        where,
        `payloadBytes is ${h.payloadBytes}, not a multiple of the ${dtypeName(h.dtype)} element width ${width}`,
      );
    }
    if (h.nchunks === 1 && h.count * width !== h.payloadBytes) {
      malformed(
        where,
        `count is ${h.count} ${dtypeName(h.dtype)} elements (${h.count * width} bytes) but payloadBytes is ${h.payloadBytes}`,
      );
    }
  }
}
