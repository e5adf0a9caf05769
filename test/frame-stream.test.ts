// The framed Unix-socket stream (src/transport/frame-stream.ts): the codec cut at every byte boundary
// (fresh reads and one reused read buffer), malformed streams, the warm send buffers, and real sockets
// carrying small and multi-megabyte messages.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { encodeFrames, FrameDecoder, FrameStream, FrameStreamError } from '../src/transport/frame-stream.js';
import { SendBufferPool } from '../src/transport/send-buffer-pool.js';
import { TransientFrameDecoder } from '../src/transport/transient-frame-decoder.js';

const bytes = (...xs: number[]) => Uint8Array.from(xs);
const plain = (ms: Uint8Array[][]) => ms.map((m) => m.map((f) => [...f]));

t.test('a message survives being cut at every byte boundary, in one or two reads', async (t) => {
  const msgs = [[bytes(1, 2, 3), bytes(), bytes(9)], [bytes(7)], [new Uint8Array(300).fill(5), bytes(4, 4)]];
  const wire = Buffer.concat(msgs.map((m) => encodeFrames(m)));
  for (let cut = 0; cut <= wire.length; cut++) {
    const got: Uint8Array[][] = [];
    const d = new FrameDecoder((f) => got.push(f));
    d.push(wire.subarray(0, cut));
    d.push(wire.subarray(cut));
    if (JSON.stringify(plain(got)) !== JSON.stringify(plain(msgs))) {
      t.fail(`cut at ${cut} gave ${JSON.stringify(plain(got))}`);
      return;
    }
  }
  const got: Uint8Array[][] = [];
  const d = new FrameDecoder((f) => got.push(f));
  for (let i = 0; i < wire.length; i++) d.push(wire.subarray(i, i + 1));
  t.same(plain(got), plain(msgs), 'one byte per read');
});

t.test(
  'one reused read buffer: every cut, frames copied inside the callback, reads overwritten after',
  async (t) => {
    const msgs = [
      [bytes(1, 2, 3), bytes(), bytes(9)],
      [bytes(7)],
      [new Uint8Array(300).fill(5), bytes(4, 4)],
    ];
    const wire = Buffer.concat(msgs.map((m) => encodeFrames(m)));
    const read = Buffer.alloc(wire.length);
    // Like node's onread: each read lands at the start of the same buffer, overwriting the last one.
    const feed = (d: TransientFrameDecoder, part: Buffer) => {
      part.copy(read, 0);
      d.push(read.subarray(0, part.length));
      read.fill(0xee);
    };
    for (let cut = 0; cut <= wire.length; cut++) {
      const got: number[][][] = [];
      const d = new TransientFrameDecoder((f) => got.push(f.map((x) => [...x])));
      feed(d, wire.subarray(0, cut));
      feed(d, wire.subarray(cut));
      if (JSON.stringify(got) !== JSON.stringify(plain(msgs))) {
        t.fail(`cut at ${cut} gave ${JSON.stringify(got)}`);
        return;
      }
    }
    const got: number[][][] = [];
    const offsets: number[] = [];
    const d = new TransientFrameDecoder((f) => {
      got.push(f.map((x) => [...x]));
      offsets.push(...f.map((x) => x.byteOffset % 8));
    });
    for (let i = 0; i < wire.length; i++) feed(d, wire.subarray(i, i + 1));
    t.same(got, plain(msgs), 'one byte per read');
    t.ok(
      offsets.every((o) => o === 0),
      'assembled frames 8-byte aligned',
    );
    t.throws(
      () => new TransientFrameDecoder(() => {}).push(Buffer.from('GET / HTTP/1.1\r\n')),
      FrameStreamError,
      'a stream that cannot be ours',
    );
  },
);

t.test('warm send buffers: reused once written, padding never carries old bytes', async (t) => {
  const pool = new SendBufferPool();
  const a = pool.take(70_000);
  t.equal(a.length, 131_072, 'rounded up to a power of two');
  pool.give(a);
  t.equal(pool.take(65_600), a, 'the same buffer comes back');
  pool.give(a);
  pool.give(Buffer.alloc(2 << 20));
  t.equal(pool.size, 1, 'buffers over 1 MiB are not kept');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsrun-fs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const sock = path.join(dir, 's.sock');
  const wires: Buffer[] = [];
  const server = net.createServer((s) => s.on('data', (c: Buffer) => wires.push(Buffer.from(c))));
  await new Promise<void>((r) => server.listen(sock, r));
  t.teardown(() => server.close());
  const client = new FrameStream(net.connect(sock));
  client.send([new Uint8Array(5000).fill(0xff)]);
  await new Promise((r) => setTimeout(r, 50)); // written: its buffer is back in the pool
  client.send([bytes(1, 2, 3)]);
  await new Promise((r) => setTimeout(r, 50));
  client.close();
  const wire = Buffer.concat(wires);
  t.same(
    [...wire.subarray(5008)],
    [1, 0, 0, 0, 3, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0],
    'second message: zero padding',
  );
});

t.test('the encoded message is a copy: the sender may reuse its frames at once', async (t) => {
  const f = bytes(1, 2, 3);
  const wire = encodeFrames([f]);
  f.fill(0);
  const got: Uint8Array[][] = [];
  new FrameDecoder((m) => got.push(m)).push(wire);
  t.same([...got[0][0]], [1, 2, 3]);
});

t.test('frames arrive 8-byte aligned, so typed arrays view them in place', async (t) => {
  const got: Uint8Array[][] = [];
  const d = new FrameDecoder((f) => got.push(f));
  d.push(encodeFrames([bytes(1), bytes(1, 2, 3), new Uint8Array(16)]));
  d.push(Buffer.concat([encodeFrames([bytes(5, 6, 7)]), encodeFrames([new Uint8Array(8)])]));
  t.same(
    got.flat().map((f) => f.byteOffset % 8),
    [0, 0, 0, 0, 0],
  );
});

t.test('a stream that cannot be ours is refused with a FrameStreamError', async (t) => {
  const d = new FrameDecoder(() => t.fail('no message'));
  t.throws(() => d.push(Buffer.from([0, 0, 0, 0])), FrameStreamError, 'zero frames');
  const e = new FrameDecoder(() => t.fail('no message'));
  t.throws(() => e.push(Buffer.from('GET / HTTP/1.1\r\n')), /announced \d+ frames/, 'text');
});

t.test('real Unix sockets: small and 12 MiB messages both ways, in order, then close', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsrun-fs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const sock = path.join(dir, 's.sock');
  const big = new Uint8Array(12 << 20);
  for (let i = 0; i < big.length; i += 4093) big[i] = i & 0xff;
  let echo: FrameStream | undefined;
  const server = net.createServer((s) => {
    echo = new FrameStream(s);
    echo.onMessage = (frames) => echo?.send([...frames].reverse());
  });
  await new Promise<void>((r) => server.listen(sock, r));
  const client = new FrameStream(net.connect(sock));
  const got: Uint8Array[][] = [];
  const done = new Promise<void>((resolve) => {
    client.onMessage = (frames) => {
      got.push(frames);
      if (got.length === 101) resolve();
    };
  });
  for (let i = 0; i < 50; i++) client.send([bytes(i), bytes(i, i)]);
  t.ok(client.sendOwned([big, bytes(42)]), 'a large handed-over message is queued');
  for (let i = 50; i < 100; i++) client.send([bytes(i), bytes(i, i)]);
  await done;
  t.same(
    got.filter((m) => m.length === 2 && m[1].length === 1).map((m) => m[1][0]),
    Array.from({ length: 100 }, (_, i) => i),
    'small messages in order',
  );
  t.equal(
    got.findIndex((m) => m[1].byteLength === big.byteLength),
    50,
    'the big one in its place',
  );
  t.ok(Buffer.from(got[50][1]).equals(Buffer.from(big)), 'and intact');
  const closed = new Promise<string>((r) => {
    client.onClose = r;
  });
  server.close();
  echo?.close();
  t.equal(await closed, 'closed', 'the other side closing ends the stream');
  t.notOk(client.send([bytes(1)]), 'send after the end is refused');
});

t.test(
  'a stream reading into one reused buffer: 64 KiB messages and a 3 MiB one arrive intact',
  async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tsrun-fs-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const sock = path.join(dir, 's.sock');
    const msg = (i: number, n: number) => new Uint8Array(n).map((_, j) => (i * 31 + j) & 0xff);
    const server = net.createServer((s) => {
      const out = new FrameStream(s);
      for (let i = 0; i < 40; i++) out.send([bytes(i), msg(i, 65_536 + (i % 3) * 8)]);
      out.sendOwned([bytes(40), msg(40, 3 << 20)]);
    });
    await new Promise<void>((r) => server.listen(sock, r));
    t.teardown(() => server.close());
    const client = FrameStream.connectTransient({ path: sock });
    t.teardown(() => client.close());
    const bad: number[] = [];
    let count = 0;
    await new Promise<void>((resolve) => {
      client.onMessage = (frames) => {
        const i = frames[0][0];
        if (i !== count || !Buffer.from(frames[1]).equals(Buffer.from(msg(i, frames[1].byteLength))))
          bad.push(i);
        count++;
        if (count === 41) resolve();
      };
    });
    t.same(bad, [], 'every message intact and in order');
  },
);
