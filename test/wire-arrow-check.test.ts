import { tableFromArrays, tableToIPC } from 'apache-arrow';
import t from 'tap';
import { checkArrowStream } from '../src/wire/arrow-check.js';
import { DType, decodePayload, MalformedFrameError, PayloadType } from '../src/wire/index.js';

const ROWS = 1234;
const table = tableFromArrays({
  id: BigInt64Array.from({ length: ROWS }, (_, i) => BigInt(i)),
  label: Array.from({ length: ROWS }, (_, i) => `row-${i % 7}`),
});
const stream = tableToIPC(table, 'stream');
const arrow = { payloadType: PayloadType.Arrow, dtype: DType.None, count: ROWS };

/** Positions of the little-endian int64 `v` in the stream. */
function find64(b: Uint8Array, v: number): number[] {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const hits: number[] = [];
  for (let i = 0; i + 8 <= b.byteLength; i++) if (view.getBigUint64(i, true) === BigInt(v)) hits.push(i);
  return hits;
}

function patched(edit: (b: Uint8Array, view: DataView) => void): Uint8Array {
  const b = Uint8Array.from(stream);
  edit(b, new DataView(b.buffer));
  return b;
}

t.test('a valid stream with dictionary-encoded strings passes and decodes', (t) => {
  t.doesNotThrow(() => checkArrowStream(stream));
  const back = decodePayload(arrow, [stream]) as typeof table;
  t.equal(back.numRows, ROWS);
  t.equal(back.getChild('label')!.get(8), 'row-1');
  t.end();
});

t.test('structural damage is rejected with a message naming it', (t) => {
  const rowHits = find64(stream, ROWS);
  t.ok(rowHits.length >= 2, 'row count and node lengths found in the metadata');
  const cases: [string, Uint8Array, RegExp][] = [
    ['truncated', stream.subarray(0, stream.byteLength - 24), /runs past the end|end-of-stream/],
    [
      'trailing bytes',
      Uint8Array.from([...stream, 0, 0, 0, 0, 0, 0, 0, 0]),
      /8 bytes follow the end-of-stream/,
    ],
    ['only end-of-stream', new Uint8Array([255, 255, 255, 255, 0, 0, 0, 0]), /no schema message/],
    ['not a stream', new Uint8Array(32).fill(7), /no continuation marker at byte 0/],
    [
      'huge row count',
      patched((_, v) => {
        for (const at of rowHits) v.setBigUint64(at, 2n ** 40n, true);
      }),
      /exceeds what \d+ body bytes can hold/,
    ],
    [
      'huge vector length',
      patched((b, v) => {
        // The field-node vector: its u32 length (2 columns) sits right before the first node's length.
        const at = rowHits.find((p) => v.getUint32(p - 4, true) === 2 || v.getUint32(p - 4, true) === 3)!;
        v.setUint32(at - 4, 0xffffff, true);
        t.ok(b.byteLength > 0);
      }),
      /claims 16777215 entries/,
    ],
  ];
  for (const [name, bytes, msg] of cases) {
    t.throws(() => checkArrowStream(bytes), { constructor: MalformedFrameError, message: msg }, name);
    t.throws(() => decodePayload(arrow, [bytes]), MalformedFrameError, `${name} via decodePayload`);
  }
  t.end();
});
