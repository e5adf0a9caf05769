import net from 'node:net';
import t from 'tap';
import * as zmq from 'zeromq';
import { StoreClient } from '../src/rendezvous/store-client.js';
import { StoreServer } from '../src/rendezvous/store-server.js';
import { deriveJobKeys } from '../src/transport/keys.js';
import { PeerMesh } from '../src/transport/peer-mesh.js';
import { zapRejections } from '../src/transport/zap.js';
import { encodeHeader, MessageKind, makeHeader, PayloadType } from '../src/wire/index.js';

const SECRET = 'cd'.repeat(32);
const keys = deriveJobKeys(SECRET);
const foreignKeys = deriveJobKeys('ef'.repeat(32));

function frameFrom(rank: number): Buffer[] {
  const h = makeHeader({
    kind: MessageKind.PointToPoint,
    source: rank,
    tag: 9,
    payloadType: PayloadType.Bytes,
  });
  h.payloadBytes = 3;
  h.totalBytes = 3;
  return [encodeHeader(h), Buffer.from('abc')];
}

async function listenMesh(encrypt: boolean) {
  const mesh = await PeerMesh.listen({
    rank: 0,
    size: 2,
    keys,
    encrypt,
    bindAddress: '127.0.0.1',
    host: 'test-host',
  });
  const got: number[] = [];
  mesh.attach(
    (source) => got.push(source),
    () => {},
  );
  return { mesh, got };
}

const settle = () => new Promise((r) => setTimeout(r, 400));

for (const encrypt of [false, true]) {
  t.test(
    `data plane (${encrypt ? 'CURVE' : 'PLAIN + token'}): only job members get frames accepted`,
    async (t) => {
      const { mesh, got } = await listenMesh(encrypt);
      t.teardown(() => mesh.close());
      const endpoint = mesh.local.tcp;
      const before = zapRejections();
      const foreign: zmq.Dealer[] = [
        new zmq.Dealer({ routingId: 'r1', linger: 0 }), // NULL mechanism
        new zmq.Dealer({ routingId: 'r1', linger: 0, plainUsername: 'tsrun', plainPassword: 'wrong' }),
        new zmq.Dealer({
          routingId: 'r1',
          linger: 0,
          curveServerKey: keys.server.publicKey,
          curvePublicKey: foreignKeys.client.publicKey,
          curveSecretKey: foreignKeys.client.secretKey,
        }),
      ];
      for (const d of foreign) {
        d.connect(endpoint);
        d.send(frameFrom(1)).catch(() => {});
      }
      // A raw TCP client sending garbage.
      const raw = net.connect(Number(endpoint.split(':').pop()), '127.0.0.1');
      raw.on('error', () => {});
      raw.write(Buffer.alloc(4096, 0xab));
      await settle();
      t.same(got, [], 'no foreign frame reached the process');
      t.ok(zapRejections() > before, 'the ZAP handler refused handshakes');
      for (const d of foreign) d.close();
      raw.destroy();
      // A member with the job's credentials still gets through.
      const member = encrypt
        ? new zmq.Dealer({
            routingId: 'r1',
            linger: 0,
            curveServerKey: keys.server.publicKey,
            curvePublicKey: keys.client.publicKey,
            curveSecretKey: keys.client.secretKey,
          })
        : new zmq.Dealer({
            routingId: 'r1',
            linger: 0,
            plainUsername: 'tsrun',
            plainPassword: keys.dataToken,
          });
      member.connect(endpoint);
      await member.send(frameFrom(1));
      await settle();
      t.same(got, [1], 'the member frame arrived');
      // A member claiming another rank in the header than its identity is dropped.
      await member.send(frameFrom(0));
      await settle();
      t.same(got, [1], 'a frame whose source disagrees with the connection identity is dropped');
      t.ok(mesh.rejectedFrames >= 1);
      member.close();
    },
  );
}

t.test('rendezvous store: CURVE + ZAP admits only the job key', async (t) => {
  const port = 30000 + Math.floor(Math.random() * 20000);
  const server = await StoreServer.serve('127.0.0.1', port, keys);
  t.teardown(() => server.close());
  const good = StoreClient.connect('127.0.0.1', port, keys);
  t.teardown(() => good.close());
  await good.set('k', { v: 1 }, 5000);
  t.same(await good.get('k', 5000), { v: 1 });
  t.equal(await good.add('n', 2, 5000), 2);
  const bad = StoreClient.connect('127.0.0.1', port, foreignKeys);
  t.teardown(() => bad.close());
  await t.rejects(
    bad.get('k', 800),
    { name: 'RendezvousError' },
    'a client with another secret gets no answer',
  );
});

t.test('busy master port: an error naming address and port', async (t) => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => blocker.close());
  const port = (blocker.address() as net.AddressInfo).port;
  await t.rejects(StoreServer.serve('127.0.0.1', port, keys), {
    name: 'RendezvousError',
    message: new RegExp(`127\\.0\\.0\\.1:${port}.*already in use`),
  });
});
