/**
 * The rendezvous store registers each rank once: a second process claiming a rank that is already
 * registered (another job sharing the master address and secret, or a rank started twice) is refused
 * with a RendezvousError naming the rank, and the job it tried to join completes with its own ranks.
 */
import { createServer } from 'node:net';
import t from 'tap';
import { RendezvousError } from '../src/errors.js';
import { exchangeEndpoints } from '../src/rendezvous/rendezvous.js';
import { StoreClient } from '../src/rendezvous/store-client.js';
import { StoreServer } from '../src/rendezvous/store-server.js';
import { deriveJobKeys } from '../src/transport/keys.js';
import type { PeerEndpoint } from '../src/transport/peer-mesh.js';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const endpoint = (rank: number, pid: number): PeerEndpoint => ({
  rank,
  host: 'h',
  tcp: `tcp://127.0.0.1:${40000 + rank}`,
  pid,
});

t.test('a rank registered twice: the second is refused, the job completes with the first', async (t) => {
  const keys = deriveJobKeys('ab'.repeat(32));
  const port = await freePort();
  const server = await StoreServer.serve('127.0.0.1', port, keys);
  const clients = [0, 1, 2, 3].map(() => StoreClient.connect('127.0.0.1', port, keys));
  t.teardown(() => {
    for (const c of clients) c.close();
    server.close();
  });
  const first = [exchangeEndpoints(clients[0], endpoint(0, 100), 3, 20_000)];
  first.push(exchangeEndpoints(clients[1], endpoint(1, 101), 3, 20_000));
  // Rank 1 of "another job" arrives after the real rank 1 registered.
  await clients[0].get('tsrun/ep/1', 20_000);
  await t.rejects(exchangeEndpoints(clients[3], endpoint(1, 999), 3, 20_000), {
    name: 'RendezvousError',
    message: /rank 1 is already registered at the rendezvous at 127\.0\.0\.1:\d+: .*refusing to join/,
  });
  first.push(exchangeEndpoints(clients[2], endpoint(2, 102), 3, 20_000));
  const views = await Promise.all(first);
  for (const v of views)
    t.same(
      v.map((e) => e.pid),
      [100, 101, 102],
      'every rank sees the first rank 1',
    );
});

t.test('the refusal is a RendezvousError', async (t) => {
  const keys = deriveJobKeys('cd'.repeat(32));
  const port = await freePort();
  const server = await StoreServer.serve('127.0.0.1', port, keys);
  const a = StoreClient.connect('127.0.0.1', port, keys);
  const b = StoreClient.connect('127.0.0.1', port, keys);
  t.teardown(() => {
    a.close();
    b.close();
    server.close();
  });
  t.equal(await a.claim('k', 1, 10_000), true);
  t.equal(await b.claim('k', 2, 10_000), false);
  t.equal(await a.get('k', 10_000), 1, 'the first value stays');
  const err = await exchangeEndpoints(b, endpoint(0, 7), 1, 10_000)
    .then(() => exchangeEndpoints(a, endpoint(0, 8), 1, 10_000))
    .catch((e) => e);
  t.type(err, RendezvousError);
  t.match(err.message, /rank 0 is already registered/);
});
