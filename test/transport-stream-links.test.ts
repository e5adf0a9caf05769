// Rank links over Unix sockets and TCP (src/transport/stream-links.ts): only a job member's stream is
// accepted, a stranger's bytes never reach the mesh, messages keep their order and alignment, a send
// issued before the peer's stream arrived waits for it, a peer whose process ends is lost at once on the
// survivor, and over TCP the connections carry kernel keepalive (a vanished host is found; a stopped or busy
// process, whose kernel still answers, is kept). Each rank
// reads the stream it opened and writes on the one the peer opened.
import { fork, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { deriveJobKeys } from '../src/transport/keys.js';
import { LinkRefusedError, StreamLinks } from '../src/transport/stream-links.js';

const keys = deriveJobKeys('cd'.repeat(32));
const foreign = deriveJobKeys('ef'.repeat(32));

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsrun-ll-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('only a job member is accepted; order and alignment hold', async (t) => {
  const dir = tmp(t);
  const a = await StreamLinks.listenUnix(path.join(dir, 'a.link'), 0, 3, keys.dataToken);
  const b = await StreamLinks.listenUnix(path.join(dir, 'b.link'), 1, 3, keys.dataToken);
  const stranger = await StreamLinks.listenUnix(path.join(dir, 's.link'), 2, 3, foreign.dataToken);
  t.teardown(() => {
    for (const l of [a, b, stranger]) l.close();
  });
  t.equal(statSync(a.endpoint).mode & 0o777, 0o600, 'the socket is private to its user');

  const got: Array<[number, number[], number]> = [];
  a.onFrames = (source, frames) => got.push([source, [...frames[1]], frames[1].byteOffset % 8]);
  const refused = await stranger.connect(0, a.endpoint).catch((e) => e);
  t.ok(refused instanceof LinkRefusedError, `a wrong token is refused (${refused})`);

  const raw = net.connect(a.endpoint);
  raw.write('GET / HTTP/1.1\r\n\r\n');
  await new Promise((r) => raw.on('close', r));
  t.pass('a stream speaking something else is closed');

  // b's first sends go out before a has opened its stream to b (a reads only that one): they wait for it.
  await b.connect(0, a.endpoint);
  const early = [0, 1, 2].map((i) => b.send(0, [Buffer.from([i]), Uint8Array.from([i, i + 1, i + 2])]));
  await a.connect(1, b.endpoint);
  await Promise.all(early);
  for (let i = 3; i < 200; i++) await b.send(0, [Buffer.from([i]), Uint8Array.from([i, i + 1, i + 2])]);
  while (got.length < 200) await new Promise((r) => setTimeout(r, 10));
  t.same(
    got.map(([s]) => s),
    Array(200).fill(1),
    'every message is credited to the rank that connected with the token',
  );
  t.same(
    got.map(([, p]) => p[0]),
    Array.from({ length: 200 }, (_, i) => i),
    'in order',
  );
  t.ok(
    got.every(([, , off]) => off === 0),
    'payload frames 8-byte aligned',
  );
  // A large handed-over message is written from the sender's own frames (no copy): it arrives whole.
  const big = new Uint8Array(300_001).map((_, i) => (i * 7) & 0xff);
  let bigGot: Uint8Array | undefined;
  a.onFrames = (_, frames) => {
    bigGot = Buffer.from(frames[1]); // frames view the link's reused read buffer: copy what you keep
  };
  await b.send(0, [Buffer.from([1]), big]);
  while (!bigGot) await new Promise((r) => setTimeout(r, 10));
  t.ok(Buffer.from(bigGot).equals(Buffer.from(big)), '300 KB message intact');
});

t.test("a peer's process killed: the survivor loses it at once", async (t) => {
  const dir = tmp(t);
  const a = await StreamLinks.listenUnix(path.join(dir, 'a.link'), 0, 2, keys.dataToken);
  t.teardown(() => a.close());
  const lost = new Promise<[number, string]>((r) => {
    a.onLost = (rank, why) => r([rank, why]);
  });
  const child = fork(
    new URL('./fixtures/stream-link-peer.ts', import.meta.url).pathname,
    [a.endpoint, keys.dataToken, path.join(dir, 'peer.link')],
    { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const heard = new Promise<void>((r) => {
    a.onFrames = () => r();
  });
  child.on('message', (peerSocket) => void a.connect(1, String(peerSocket)));
  await heard;
  const t0 = Date.now();
  child.kill('SIGKILL');
  const [rank, why] = await lost;
  t.equal(rank, 1);
  t.match(why, /connection/);
  t.ok(Date.now() - t0 < 5000, 'promptly');
});

t.test(
  'over TCP: a member is accepted, a stranger refused, keepalive on, a stopped peer kept, a killed one lost',
  async (t) => {
    const a = await StreamLinks.listenTcp('127.0.0.1', 0, 3, keys.dataToken, 5000);
    const stranger = await StreamLinks.listenTcp('127.0.0.1', 2, 3, foreign.dataToken, 5000);
    t.teardown(() => {
      a.close();
      stranger.close();
    });
    t.match(a.endpoint, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    const refused = await stranger.connect(0, a.endpoint).catch((e) => e);
    t.ok(refused instanceof LinkRefusedError, `a wrong token is refused (${refused})`);
    const port = Number(a.endpoint.split(':').pop());
    const raw = net.connect(port, '127.0.0.1');
    const answer: Buffer[] = [];
    raw.on('data', (d: Buffer) => answer.push(d));
    raw.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => raw.on('close', r));
    t.equal(Buffer.concat(answer).length, 0, 'an HTTP client gets no answer and is closed');
    const child = fork(
      new URL('./fixtures/stream-link-peer.ts', import.meta.url).pathname,
      [a.endpoint, keys.dataToken, ''],
      { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    t.teardown(() => child.kill('SIGKILL'));
    const heard = new Promise<string>((r) => {
      a.onFrames = (_, frames) => r(Buffer.from(frames[0]).toString());
    });
    child.on('message', (peer) => void a.connect(1, String(peer)));
    t.equal(await heard, 'hello', 'a message from the peer over TCP');
    // Both directions' connections on a's port, as the kernel sees them: keepalive armed.
    const ss = spawnSync(
      'ss',
      ['-tnoH', 'state', 'established', `( sport = :${port} or dport = :${port} )`],
      {
        encoding: 'utf8',
      },
    );
    t.match(ss.stdout, /timer:\(keepalive/, `keepalive armed (${ss.stdout.trim().split('\n')[0]})`);
    let lostAt = 0;
    let why = '';
    a.onLost = (_, w) => {
      lostAt = Date.now();
      why = w;
    };
    child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 1500));
    t.equal(lostAt, 0, 'a stopped process (its kernel still answers) is not taken for lost');
    const t0 = Date.now();
    child.kill('SIGKILL');
    while (lostAt === 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
    t.ok(lostAt > 0 && lostAt - t0 < 2000, `a killed one is lost at once (${lostAt - t0} ms: ${why})`);
  },
);
