/**
 * Throws random and mutated-valid messages at decodeMessage + decodePayload. The receive loop of the
 * transport relies on one promise: hostile or corrupt bytes surface only as WireError subclasses, never
 * as a crash, a hang, another error class or a huge allocation. Seeded, so a failure replays with
 * WIRE_FUZZ_SEED=<seed>.
 */
import { tableFromArrays } from 'apache-arrow';
import t from 'tap';
import {
  CollectiveOp,
  DType,
  decodeMessage,
  decodePayload,
  encodeHeader,
  encodeMessage,
  encodePayload,
  Flags,
  MessageKind,
  makeHeader,
  OversizeFrameError,
  PayloadType,
  WireError,
} from '../src/wire/index.js';

const SEED = Number(process.env.WIRE_FUZZ_SEED ?? 0x7473_2024);
const ITERATIONS = Number(process.env.WIRE_FUZZ_ITERATIONS ?? 120_000);

/** mulberry32: small, fast and good enough to drive mutations reproducibly. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = rng(SEED);
const int = (n: number) => Math.floor(rand() * n);

function randomBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = int(256);
  return b;
}

/** Valid messages of every payload kind, the seeds that mutations start from. */
function validCorpus(): Uint8Array[][] {
  const values: unknown[] = [
    new Float32Array([1, 2, 3]),
    new Float64Array([Math.PI, -0]),
    new Int8Array([-1, 2]),
    new Int16Array([300, -300, 7]),
    new Int32Array([1 << 30]),
    Buffer.from('hello wire'),
    new Uint16Array(0),
    new Uint32Array([4, 5]),
    new BigInt64Array([-5n, 6n]),
    new BigUint64Array([2n ** 64n - 1n]),
    tableFromArrays({ id: new BigInt64Array([1n, 2n, 3n]), x: new Float64Array([0.1, 0.2, 0.3]) }),
    { rank: 3, addr: 'tcp://10.0.0.1:29500', m: new Map([[1, new Float32Array([1])]]), s: new Set(['a']) },
    ['nested', [1, [2, [3, { deep: new Uint8Array([9]) }]]], null, 2n ** 70n],
    'just a string',
  ];
  const out: Uint8Array[][] = values.map((v, i) =>
    encodeMessage(
      { kind: MessageKind.Collective, op: (i % 15) + 1, seq: i, source: i, tag: -i, flags: Flags.Last },
      encodePayload(v),
    ),
  );
  out.push(encodeMessage({ kind: MessageKind.Heartbeat }));
  out.push(encodeMessage({ kind: MessageKind.Collective, op: CollectiveOp.Barrier, group: 7 }));
  const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  out.push([
    encodeHeader(makeHeader({ kind: MessageKind.PoolData, payloadType: PayloadType.Bytes, payloadBytes: 8 })),
    bytes.subarray(0, 3),
    bytes.subarray(3),
  ]);
  out.push(
    encodeMessage(
      { kind: MessageKind.PointToPoint, chunk: 1, nchunks: 4, totalBytes: 64 },
      encodePayload(new Float64Array([1, 2])),
    ),
  );
  return out;
}

function copyFrames(frames: Uint8Array[]): Uint8Array[] {
  return frames.map((f) => Uint8Array.from(f));
}

const LENGTH_OFFSETS = [16, 20, 44, 48, 52, 56];

/** One mutation of a valid message; several strategies so both the header and payload decoders are hit. */
function mutate(src: Uint8Array[]): Uint8Array[] {
  const frames = copyFrames(src);
  const h = frames[0];
  switch (int(8)) {
    case 0: // flip a few bits anywhere in the header
      for (let k = 1 + int(3); k > 0; k--) h[int(64)] ^= 1 << int(8);
      break;
    case 1: // overwrite a length-ish field with an extreme value
      {
        const o = LENGTH_OFFSETS[int(LENGTH_OFFSETS.length)];
        const v = [0, 1, 0xffffffff, 0x7fffffff, 0x200000, int(2 ** 32)][int(6)];
        h[o] = v;
        h[o + 1] = v >>> 8;
        h[o + 2] = v >>> 16;
        h[o + 3] = v >>> 24;
      }
      break;
    case 2: // truncate or extend the header frame
      frames[0] = int(2) === 0 ? h.subarray(0, int(64)) : Uint8Array.from([...h, ...randomBytes(1 + int(8))]);
      break;
    case 3: // drop, duplicate or add a payload frame
      if (frames.length > 1 && int(2) === 0) frames.splice(1 + int(frames.length - 1), 1);
      else frames.push(randomBytes(int(16)));
      break;
    case 4: // corrupt a few payload bytes, keeping lengths (reaches v8 / Arrow / typed decoders)
    case 5:
    case 6:
      for (let i = 1; i < frames.length; i++) {
        const f = frames[i];
        for (let k = f.length === 0 ? 0 : 1 + int(4); k > 0; k--) f[int(f.length)] = int(256);
      }
      break;
    default: // cut payload frames at a random point, split across frames with unaligned offsets
      if (frames.length > 1) {
        const f = frames[1];
        const cut = int(f.length + 1);
        frames.splice(1, 1, f.subarray(0, cut), f.subarray(cut));
      }
      break;
  }
  return frames;
}

function randomFrames(): Uint8Array[] {
  const frames: Uint8Array[] = [];
  // Mostly 64-byte headers with the right magic and version, so random frames get past the first checks.
  const h = randomBytes(int(8) === 0 ? int(80) : 64);
  if (h.length >= 3 && int(4) !== 0) {
    h[0] = 0x73;
    h[1] = 0x74;
    h[2] = 1;
  }
  frames.push(h);
  for (let k = int(4); k > 0; k--) frames.push(randomBytes(int(64)));
  return frames;
}

t.test(`fuzz: only WireError subclasses escape (seed ${SEED}, ${ITERATIONS} messages)`, (t) => {
  const corpus = validCorpus();
  for (const m of corpus) {
    const { header, payload } = decodeMessage(m);
    decodePayload(header, payload);
  }
  const outcomes = new Map<string, number>();
  const foreign: string[] = [];
  let payloadStage = 0;
  let slowest = 0;
  const rssBefore = process.memoryUsage().rss;
  const start = performance.now();
  for (let i = 0; i < ITERATIONS; i++) {
    const frames = int(4) === 0 ? randomFrames() : mutate(corpus[int(corpus.length)]);
    let stage = 'header';
    const t0 = performance.now();
    try {
      const { header, payload } = decodeMessage(frames);
      stage = 'payload';
      payloadStage++;
      decodePayload(header, payload);
      outcomes.set('ok', (outcomes.get('ok') ?? 0) + 1);
    } catch (err) {
      const name = `${stage}:${(err as Error)?.constructor?.name ?? typeof err}`;
      outcomes.set(name, (outcomes.get(name) ?? 0) + 1);
      if (!(err instanceof WireError) && foreign.length < 5) {
        foreign.push(`iteration ${i}: ${name}: ${(err as Error)?.message ?? String(err)}`);
      }
    }
    const took = performance.now() - t0;
    if (took > slowest) slowest = took;
  }
  const seconds = (performance.now() - start) / 1000;
  t.comment(
    `${ITERATIONS} messages in ${seconds.toFixed(1)} s: ${JSON.stringify(Object.fromEntries(outcomes))}`,
  );
  t.same(foreign, [], 'no error outside the WireError hierarchy');
  t.ok(seconds < 20, `finished in ${seconds.toFixed(1)} s (< 20 s)`);
  // Corrupt Arrow metadata used to make arrow-js run for seconds and grow to gigabytes on one message.
  t.ok(slowest < 1000, `slowest message took ${slowest.toFixed(1)} ms (< 1 s)`);
  const grown = process.memoryUsage().rss - rssBefore;
  t.ok(grown < 512 * 1024 * 1024, `resident memory grew by ${(grown / 2 ** 20).toFixed(0)} MiB (< 512 MiB)`);
  // The mutations must actually reach the payload decoders, not just bounce off the header checks.
  t.ok(payloadStage > ITERATIONS / 10, `${payloadStage} messages reached decodePayload`);
  t.ok(
    (outcomes.get('payload:MalformedFrameError') ?? 0) > 100,
    'payload decoders rejected corrupt payloads',
  );
  t.ok((outcomes.get('ok') ?? 0) > 100, 'some mutated messages still decode');
  t.end();
});

t.test('a frame announcing 2^40 bytes is rejected without allocating', (t) => {
  const h = encodeHeader(makeHeader({ kind: MessageKind.PoolData }));
  const huge = Uint8Array.from(h);
  // totalBytes = 2^40 (high word 256), payloadBytes = 2^32 - 1, payloadType Bytes.
  new DataView(huge.buffer).setBigUint64(48, 2n ** 40n, true);
  new DataView(huge.buffer).setUint32(56, 0xffffffff, true);
  huge[15] = PayloadType.Bytes;
  const onlyTotal = Uint8Array.from(h);
  new DataView(onlyTotal.buffer).setBigUint64(48, 2n ** 40n, true);
  const typedCount = encodeHeader(
    makeHeader({
      kind: MessageKind.PointToPoint,
      payloadType: PayloadType.Typed,
      dtype: DType.Float64,
      count: 0,
    }),
  );
  new DataView(typedCount.buffer, typedCount.byteOffset).setBigUint64(16, 2n ** 40n, true);

  const cases: [string, () => unknown, new (...a: never[]) => WireError][] = [
    ['payloadBytes 2^32-1, totalBytes 2^40', () => decodeMessage([huge]), OversizeFrameError],
    ['totalBytes 2^40', () => decodeMessage([onlyTotal]), OversizeFrameError],
    // A count of 2^40 elements with no bytes is inconsistent; nothing may size a buffer from it.
    ['typed count 2^40', () => decodeMessage([typedCount]), WireError],
    [
      'decodePayload count 2^40',
      () => decodePayload({ payloadType: PayloadType.Typed, dtype: DType.Float64, count: 2 ** 40 }, []),
      WireError,
    ],
  ];
  const before = process.memoryUsage().arrayBuffers;
  for (const [name, fn, cls] of cases) {
    let right = 0;
    for (let i = 0; i < 1000; i++) {
      try {
        fn();
      } catch (err) {
        if (err instanceof cls) right++;
      }
    }
    t.equal(right, 1000, `${name}: rejected with ${cls.name} every time`);
  }
  const grown = process.memoryUsage().arrayBuffers - before;
  t.ok(grown < 16 * 1024 * 1024, `array-buffer memory grew by ${grown} bytes (< 16 MiB)`);
  t.end();
});
