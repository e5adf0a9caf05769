import { tableFromArrays } from 'apache-arrow';
import t from 'tap';
import {
  allocTyped,
  bytesOf,
  bytesPerElement,
  CollectiveOp,
  DType,
  decodeHeader,
  decodeMessage,
  decodePayload,
  dtypeOf,
  encodeHeader,
  encodeMessage,
  encodePayload,
  Flags,
  HEADER_BYTES,
  type Header,
  HeaderRangeError,
  MalformedFrameError,
  MessageKind,
  makeHeader,
  OversizeFrameError,
  PayloadType,
  RedOp,
  redOpFromName,
  redOpName,
  TruncatedFrameError,
  typedArrayFor,
  UnsupportedVersionError,
  WireError,
  WireTypeError,
} from '../src/wire/index.js';
import { REDUCE_OPS, type TypedArray } from '../src/wire/vocabulary.js';

const U32_MAX = 0xffff_ffff;

t.test('header round-trips every field at its extremes', (t) => {
  const lows = makeHeader({ kind: MessageKind.Collective, op: CollectiveOp.AllReduce, tag: -2147483648 });
  const highs: Header = {
    version: 1,
    kind: MessageKind.PoolData,
    group: U32_MAX,
    seq: U32_MAX,
    op: 255,
    dtype: DType.BigUint64,
    redop: RedOp.Bxor,
    payloadType: PayloadType.Bytes,
    count: Number.MAX_SAFE_INTEGER,
    source: U32_MAX,
    tag: 2147483647,
    root: U32_MAX,
    step: U32_MAX,
    chunk: U32_MAX - 1,
    nchunks: U32_MAX,
    totalBytes: Number.MAX_SAFE_INTEGER,
    payloadBytes: U32_MAX,
    flags: Flags.Last,
  };
  const limits = { maxPayloadBytes: U32_MAX, maxTotalBytes: Number.MAX_SAFE_INTEGER };
  for (const h of [lows, highs]) {
    const buf = encodeHeader(h);
    t.equal(buf.byteLength, HEADER_BYTES);
    t.same(decodeHeader(buf, limits), h);
  }
  t.equal(encodeHeader(lows).readUInt16LE(0), 0x7473, 'magic first, little-endian');
  const out = Buffer.alloc(80, 0xee);
  t.equal(encodeHeader(highs, out), out, 'writes into the given buffer');
  t.equal(out.readUInt32LE(24), U32_MAX);
  t.equal(out.readBigUInt64LE(16), BigInt(Number.MAX_SAFE_INTEGER));
  t.equal(out.readInt32LE(28), 2147483647);
  t.end();
});

t.test('header byte offsets follow the table', (t) => {
  const h = makeHeader({
    kind: MessageKind.PointToPoint,
    group: 0x01020304,
    seq: 0x05060708,
    op: 9,
    dtype: DType.Int16,
    redop: RedOp.Max,
    payloadType: PayloadType.Typed,
    count: 2 ** 40 + 3,
    source: 11,
    tag: -1,
    root: 12,
    step: 13,
    chunk: 14,
    nchunks: 15,
    totalBytes: 2 ** 41,
    payloadBytes: 18,
    flags: 1,
  });
  const b = encodeHeader(h);
  t.same(
    [b[2], b[3], b.readUInt32LE(4), b.readUInt32LE(8), b[12], b[13], b[14], b[15]],
    [1, 2, 0x01020304, 0x05060708, 9, 4, 4, 1],
  );
  t.same(
    [b.readBigUInt64LE(16), b.readUInt32LE(24), b.readInt32LE(28), b.readUInt32LE(32), b.readUInt32LE(36)],
    [2n ** 40n + 3n, 11, -1, 12, 13],
  );
  t.same(
    [b.readUInt32LE(40), b.readUInt32LE(44), b.readBigUInt64LE(48), b.readUInt32LE(56), b.readUInt32LE(60)],
    [14, 15, 2n ** 41n, 18, 1],
  );
  t.end();
});

t.test('makeHeader defaults', (t) => {
  const h = makeHeader({ kind: MessageKind.Heartbeat, payloadBytes: 8, payloadType: PayloadType.Bytes });
  t.equal(h.version, 1);
  t.equal(h.nchunks, 1);
  t.equal(h.totalBytes, 8, 'totalBytes follows payloadBytes');
  t.equal(h.chunk, 0);
  t.equal(h.group, 0);
  t.end();
});

t.test('encodeHeader rejects out-of-range fields', (t) => {
  const base = () => makeHeader({ kind: MessageKind.Hello });
  const cases: [keyof Header, number, RegExp][] = [
    ['group', -1, /group is -1/],
    ['seq', 2 ** 32, /seq is 4294967296/],
    ['op', 256, /op is 256/],
    ['source', 1.5, /source is 1.5/],
    ['tag', 2 ** 31, /tag is 2147483648/],
    ['count', 2 ** 53, /count is 9007199254740992/],
    ['payloadBytes', Number.NaN, /payloadBytes is NaN/],
  ];
  for (const [field, value, msg] of cases) {
    const h = base();
    (h as unknown as Record<string, number>)[field] = value;
    t.throws(() => encodeHeader(h), { constructor: HeaderRangeError, message: msg }, field);
  }
  const v2 = base();
  v2.version = 2;
  t.throws(() => encodeHeader(v2), HeaderRangeError);
  t.throws(() => encodeHeader(base(), Buffer.alloc(10)), /needs 64/);
  const bad = makeHeader({ kind: MessageKind.Hello, nchunks: 0 });
  t.throws(() => encodeHeader(bad), {
    constructor: MalformedFrameError,
    message: /encodeHeader: nchunks is 0/,
  });
  t.end();
});

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

/** A valid header buffer with one field patched by `patch`. */
function patched(patch: (b: Buffer) => void, fields: Partial<Header> = {}): Buffer {
  const b = encodeHeader(makeHeader({ kind: MessageKind.Collective, op: CollectiveOp.Barrier, ...fields }));
  patch(b);
  return b;
}

t.test('decodeHeader rejects one case per rule', (t) => {
  const typed = { payloadType: PayloadType.Typed, dtype: DType.Float32, count: 4, payloadBytes: 16 };
  const cases: [string, Uint8Array, new (...a: never[]) => WireError, RegExp][] = [
    ['short header', Buffer.alloc(63), TruncatedFrameError, /frame header: 63 bytes \(must be 64\)/],
    [
      'magic',
      patched((b) => b.writeUInt16LE(0x1234, 0)),
      MalformedFrameError,
      /magic is 0x1234 \(must be 0x7473/,
    ],
    [
      'version',
      patched((b) => (b[2] = 7)),
      UnsupportedVersionError,
      /version 7 received.*supports version 1/,
    ],
    ['kind 0', patched((b) => (b[3] = 0)), MalformedFrameError, /kind is 0 \(must be 1..9\)/],
    ['kind 10', patched((b) => (b[3] = 10)), MalformedFrameError, /kind is 10/],
    [
      'collective op',
      patched((b) => (b[12] = 21)),
      MalformedFrameError,
      /op is 21 for a collective message \(must be a CollectiveOp, 1..20\)/,
    ],
    ['dtype', patched((b) => (b[13] = 11)), MalformedFrameError, /dtype is 11 \(must be 0..10\)/],
    ['redop', patched((b) => (b[14] = 9)), MalformedFrameError, /redop is 9 \(must be 0..8\)/],
    ['payloadType', patched((b) => (b[15] = 5)), MalformedFrameError, /payloadType is 5 \(must be 0..4\)/],
    [
      'count unsafe',
      patched((b) => b.writeBigUInt64LE(2n ** 53n, 16)),
      MalformedFrameError,
      /count is 9007199254740992 \(must be ≤ Number.MAX_SAFE_INTEGER\)/,
    ],
    [
      'nchunks 0',
      patched((b) => b.writeUInt32LE(0, 44)),
      MalformedFrameError,
      /nchunks is 0 \(must be ≥ 1\)/,
    ],
    [
      'chunk ≥ nchunks',
      patched((b) => b.writeUInt32LE(3, 40), { nchunks: 3 }),
      MalformedFrameError,
      /chunk is 3 but nchunks is 3/,
    ],
    [
      'totalBytes < payloadBytes',
      patched((b) => b.writeBigUInt64LE(4n, 48), { payloadType: PayloadType.Bytes, payloadBytes: 8 }),
      MalformedFrameError,
      /totalBytes is 4 but payloadBytes is 8/,
    ],
    ['unknown flag', patched((b) => b.writeUInt32LE(0x80, 60)), MalformedFrameError, /unknown bits 0x80/],
    ['compressed flag', patched((b) => b.writeUInt32LE(2, 60)), MalformedFrameError, /Compressed \(2\) set/],
    [
      'typed width',
      patched((b) => b.writeUInt32LE(15, 56), { ...typed, totalBytes: 16, nchunks: 2 }),
      MalformedFrameError,
      /payloadBytes is 15, not a multiple of the Float32 element width 4/,
    ],
    [
      'typed count',
      patched((b) => b.writeUInt32LE(5, 16), typed),
      MalformedFrameError,
      /count is 5 Float32 elements \(20 bytes\) but payloadBytes is 16/,
    ],
    [
      'typed without dtype',
      patched((b) => (b[13] = 0), typed),
      MalformedFrameError,
      /payloadType is Typed but dtype is None/,
    ],
    [
      'none with bytes',
      patched((b) => b.writeUInt32LE(4, 56), { totalBytes: 8 }),
      MalformedFrameError,
      /payloadType is None but payloadBytes is 4/,
    ],
    [
      'payloadBytes over limit',
      patched((b) => b.writeUInt32LE(U32_MAX, 56)),
      OversizeFrameError,
      /payloadBytes is 4294967295 \(limit 1073807360/,
    ],
    [
      'totalBytes over limit',
      patched((b) => b.writeBigUInt64LE(2n ** 40n, 48)),
      OversizeFrameError,
      /totalBytes is 1099511627776 \(limit/,
    ],
  ];
  for (const [name, buf, cls, msg] of cases) {
    t.throws(() => decodeHeader(buf), { constructor: cls, message: msg }, name);
    t.ok(caught(() => decodeHeader(buf)) instanceof WireError, `${name} is a WireError`);
  }
  t.end();
});

t.test('decodeMessage checks frame lengths and limits', (t) => {
  const frames = encodeMessage({ kind: MessageKind.PointToPoint }, encodePayload(new Int32Array([1, 2, 3])));
  const { header, payload } = decodeMessage(frames);
  t.equal(payload[0], frames[1], 'payload frames are passed through uncopied');
  t.same(decodePayload(header, payload), new Int32Array([1, 2, 3]));
  t.throws(() => decodeMessage([]), TruncatedFrameError);
  t.throws(() => decodeMessage([frames[0]]), {
    constructor: TruncatedFrameError,
    message: /payload frames hold 0 bytes but payloadBytes is 12/,
  });
  t.throws(() => decodeMessage([frames[0], frames[1], new Uint8Array(4)]), {
    constructor: MalformedFrameError,
    message: /hold 16 bytes but payloadBytes is 12 \(must be equal\)/,
  });
  t.throws(() => decodeMessage([Buffer.concat([frames[0], Buffer.alloc(1)]), frames[1]]), {
    constructor: MalformedFrameError,
    message: /65 bytes/,
  });
  t.throws(() => decodeMessage(frames, { maxPayloadBytes: 8 }), {
    constructor: OversizeFrameError,
    message: /payloadBytes is 12 \(limit 8/,
  });
  t.throws(() => decodeMessage(frames, { maxPayloadBytes: 12, maxTotalBytes: 11 }), OversizeFrameError);
  // Chunks split one payload across messages; each carries its own part and the whole length.
  const chunk = encodeMessage(
    { kind: MessageKind.Collective, op: CollectiveOp.Broadcast, chunk: 1, nchunks: 2, totalBytes: 24 },
    encodePayload(new Float64Array([5])),
  );
  t.equal(decodeMessage(chunk).header.totalBytes, 24);
  t.end();
});

const samples: TypedArray[] = [
  new Float32Array([0, -1.5, Number.POSITIVE_INFINITY, Number.NaN, 3.4e38]),
  new Float64Array([Number.MIN_VALUE, -Number.MAX_VALUE, -0]),
  new Int8Array([-128, 127, 0]),
  new Int16Array([-32768, 32767]),
  new Int32Array([-(2 ** 31), 2 ** 31 - 1]),
  new Uint8Array([0, 255]),
  new Uint16Array([0, 65535]),
  new Uint32Array([0, U32_MAX]),
  new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]),
  new BigUint64Array([0n, 2n ** 64n - 1n]),
];

t.test('every dtype round-trips through a message, including empty arrays', (t) => {
  for (const x of samples) {
    for (const value of [x, x.subarray(0, 0)]) {
      const enc = encodePayload(value);
      t.equal(enc.payloadType, PayloadType.Typed);
      t.equal(enc.frames[0].buffer, value.buffer, 'encode is zero-copy');
      const { header, payload } = decodeMessage(encodeMessage({ kind: MessageKind.PointToPoint }, enc));
      const back = decodePayload(header, payload) as TypedArray;
      t.equal(back.constructor, value.constructor, `${value.constructor.name} class kept`);
      t.same(Array.from(back as ArrayLike<unknown>), Array.from(value as ArrayLike<unknown>));
    }
  }
  t.equal(dtypeOf(Buffer.from('hi')), DType.Uint8, 'Buffer is a Uint8 array');
  t.throws(() => dtypeOf(new DataView(new ArrayBuffer(4)) as never), WireTypeError);
  t.throws(() => dtypeOf(new Uint8ClampedArray(2) as never), {
    constructor: WireTypeError,
    message: /Uint8ClampedArray/,
  });
  t.throws(() => dtypeOf([1, 2] as never), WireTypeError);
  t.end();
});

t.test('typedArrayFor is zero-copy when aligned and copies otherwise', (t) => {
  const src = new Float64Array([1.25, -2.5, 3.75]);
  const backing = new Uint8Array(8 + 24 + 8);
  backing.set(bytesOf(src), 8);
  const aligned = typedArrayFor(DType.Float64, backing.subarray(8, 32));
  t.equal(aligned.buffer, backing.buffer, 'aligned view shares memory');
  t.same(Array.from(aligned as Float64Array), [1.25, -2.5, 3.75]);
  const unalignedBytes = new Uint8Array(25);
  unalignedBytes.set(bytesOf(src), 1);
  const copy = typedArrayFor(DType.Float64, unalignedBytes.subarray(1));
  t.not(copy.buffer, unalignedBytes.buffer, 'unaligned input is copied');
  t.same(Array.from(copy as Float64Array), [1.25, -2.5, 3.75]);
  // An unaligned view sent by a peer decodes the same way.
  const dec = decodePayload({ payloadType: PayloadType.Typed, dtype: DType.Float64, count: 3 }, [
    unalignedBytes.subarray(1),
  ]);
  t.same(Array.from(dec as Float64Array), [1.25, -2.5, 3.75]);
  t.throws(() => typedArrayFor(DType.Int32, new Uint8Array(6)), MalformedFrameError);
  t.throws(() => typedArrayFor(DType.None, new Uint8Array(6)), WireTypeError);
  t.end();
});

t.test('dtype table', (t) => {
  t.same(
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((d) => bytesPerElement(d as DType)),
    [4, 8, 1, 2, 4, 1, 2, 4, 8, 8],
  );
  t.throws(() => bytesPerElement(DType.None), WireTypeError);
  const a = allocTyped(DType.BigInt64, 3);
  t.ok(a instanceof BigInt64Array);
  t.equal(a.length, 3);
  for (const x of samples) t.equal(bytesPerElement(dtypeOf(x)), x.BYTES_PER_ELEMENT);
  t.end();
});

t.test('typed payload split over several frames is joined', (t) => {
  const x = new Int16Array([1, -2, 3, -4]);
  const b = bytesOf(x);
  const back = decodePayload({ payloadType: PayloadType.Typed, dtype: DType.Int16, count: 4 }, [
    b.subarray(0, 3),
    b.subarray(3),
  ]);
  t.same(Array.from(back as Int16Array), [1, -2, 3, -4]);
  t.throws(() => decodePayload({ payloadType: PayloadType.Typed, dtype: DType.Int16, count: 5 }, [b]), {
    constructor: MalformedFrameError,
    message: /count is 5 Int16 elements but the frames hold 4/,
  });
  t.end();
});

t.test('Arrow tables round-trip as IPC streams', (t) => {
  const table = tableFromArrays({
    id: new BigInt64Array([1n, -2n, 2n ** 62n]),
    score: new Float64Array([0.5, Number.NaN, -1e300]),
  });
  const enc = encodePayload(table);
  t.equal(enc.payloadType, PayloadType.Arrow);
  t.equal(enc.count, 3);
  const { header, payload } = decodeMessage(encodeMessage({ kind: MessageKind.PoolData }, enc));
  const back = decodePayload(header, payload) as typeof table;
  t.equal(back.numRows, 3);
  t.same(Array.from(back.getChild('id')!.toArray() as BigInt64Array), [1n, -2n, 2n ** 62n]);
  t.same(Array.from(back.getChild('score')!.toArray() as Float64Array), [0.5, Number.NaN, -1e300]);
  t.throws(
    () =>
      decodePayload({ payloadType: PayloadType.Arrow, dtype: DType.None, count: 0 }, [
        new Uint8Array([1, 2, 3, 4, 5]),
      ]),
    { constructor: MalformedFrameError, message: /arrow payload/ },
  );
  t.end();
});

t.test('other values travel via v8.serialize', (t) => {
  const value = {
    name: 'rank',
    nested: { m: new Map<string, unknown>([['w', new Float32Array([1, 2])]]), s: new Set([1n, 2n]) },
    list: [1, 'two', null, undefined, new Date(0)],
    view: new Uint8ClampedArray([1, 300]),
  };
  const enc = encodePayload(value);
  t.equal(enc.payloadType, PayloadType.V8);
  const { header, payload } = decodeMessage(encodeMessage({ kind: MessageKind.PoolControl, op: 3 }, enc));
  t.same(decodePayload(header, payload), value);
  t.throws(() => encodePayload({ f: () => 1 }), { constructor: WireTypeError, message: /encodePayload/ });
  t.throws(() => encodePayload(Symbol('s')), WireTypeError);
  t.throws(
    () =>
      decodePayload({ payloadType: PayloadType.V8, dtype: DType.None, count: 0 }, [
        new Uint8Array([0xff, 0x0f, 0x6f, 0x22]),
      ]),
    { constructor: MalformedFrameError, message: /v8 payload/ },
  );
  t.end();
});

t.test('bytes and empty payloads', (t) => {
  const bytes = new Uint8Array([9, 8, 7]);
  t.equal(decodePayload({ payloadType: PayloadType.Bytes, dtype: DType.None, count: 0 }, [bytes]), bytes);
  t.same(
    decodePayload({ payloadType: PayloadType.Bytes, dtype: DType.None, count: 0 }, [bytes, bytes]),
    new Uint8Array([9, 8, 7, 9, 8, 7]),
  );
  const { header, payload } = decodeMessage(
    encodeMessage({ kind: MessageKind.Collective, op: CollectiveOp.Barrier }),
  );
  t.equal(decodePayload(header, payload), undefined);
  t.throws(
    () => decodePayload({ payloadType: PayloadType.None, dtype: DType.None, count: 0 }, [bytes]),
    MalformedFrameError,
  );
  t.end();
});

t.test('redop names map to collectives ReduceOp strings', (t) => {
  for (const name of REDUCE_OPS) t.equal(redOpName(redOpFromName(name)), name);
  t.equal(redOpFromName('sum'), RedOp.Sum);
  t.equal(redOpName(RedOp.Bxor), 'bxor');
  t.throws(() => redOpFromName('mean' as never), { constructor: WireTypeError, message: /"mean"/ });
  t.throws(() => redOpName(RedOp.None), WireTypeError);
  t.end();
});
