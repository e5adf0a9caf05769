// The head's Unix socket for same-host clients (src/pool/head-socket-server.ts): a client must hold the
// secret, garbage cannot hurt the head, a driver that vanishes is dropped at once, and an embedded pool's
// workers and a persistent cluster's drivers really use it.
import net from 'node:net';
import { hostname } from 'node:os';
import t from 'tap';
import { PoolConnectError } from '../src/pool/errors.js';
import { Head } from '../src/pool/head.js';
import { HeadLink, type HelloBody } from '../src/pool/head-link.js';
import { connect } from '../src/pool/index.js';
import { NodeAgent } from '../src/pool/node-agent.js';
import { hostIdentity } from '../src/transport/host-identity.js';
import { deriveJobKeys } from '../src/transport/keys.js';

import type * as Tasks from './fixtures/pool/tasks.js';

const TASKS = new URL('./fixtures/pool/tasks.ts', import.meta.url);
const hello = (): HelloBody => ({
  role: 'driver',
  pid: process.pid,
  host: hostIdentity(),
  hostname: hostname(),
});
const secret = 'a'.repeat(64);

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

t.test('a Unix-socket client must hold the secret; garbage does not hurt the head', async (t) => {
  const head = await Head.start(deriveJobKeys(secret), '127.0.0.1', 0);
  t.teardown(() => head.close());
  t.match(head.localEndpoint, /^unix:\/\/.*\.link$/, 'the head serves a Unix socket');

  const wrong = await HeadLink.open(head.localEndpoint, deriveJobKeys('b'.repeat(64)), hello(), 5000).catch(
    (e) => e,
  );
  t.ok(wrong instanceof PoolConnectError, `a wrong secret is refused (${wrong})`);
  t.match(String(wrong), /refused our credentials/);

  const raw = net.connect(head.localEndpoint.slice('unix://'.length));
  raw.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((r) => raw.on('close', r));
  t.pass('a connection speaking something else is closed');

  const { link, welcome } = await HeadLink.open(head.localEndpoint, deriveJobKeys(secret), hello(), 5000);
  t.ok(Number(welcome.clientId) > 0, 'the right secret is welcomed');
  t.equal((head.status() as { drivers: number }).drivers, 1, 'the head counts the driver');
  link.close(); // no Goodbye: as if the driver had been killed
  await until(
    'the head to drop the driver',
    () => (head.status() as { drivers: number }).drivers === 0,
    2000,
  );
  t.pass('a driver whose connection ends is dropped at once, not after the silence limit');

  const gone = await HeadLink.open(
    'unix:///nonexistent/tsrun.link',
    deriveJobKeys(secret),
    hello(),
    5000,
  ).catch((e) => e);
  t.ok(gone instanceof PoolConnectError, `no head at the path: a clear error (${gone})`);
  t.match(String(gone), /cannot reach the pool head at \/nonexistent\/tsrun\.link: nothing listens/);
});

t.test("a node agent's workers on the head's host use the Unix socket and run tasks", async (t) => {
  const head = await Head.start(deriveJobKeys(secret), '127.0.0.1', 0);
  const agent = await NodeAgent.start({ endpoint: head.tcp, secret, workers: 2 });
  t.teardown(async () => {
    await agent.stop();
    await head.close();
  });
  await until('two workers', () => head.workers.size === 2, 60_000);
  t.equal(head.localSocketClients, 2, 'both workers hold a connection to the Unix socket');
  const pool = await connect({ address: `127.0.0.1:${head.port}`, secret });
  const square = pool.remote<typeof Tasks.square>(TASKS, 'square');
  const res = await pool.get(Array.from({ length: 20 }, (_, i) => square(i)));
  t.same(
    res.map((r) => r.sq),
    Array.from({ length: 20 }, (_, i) => i * i),
  );
  await pool.close();
});
