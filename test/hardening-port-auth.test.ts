// Every listening socket of a *running* job (rendezvous store, rank endpoints; pool head, workers and
// object servers) is found in /proc and attacked while the job works: ZeroMQ sockets with NULL, PLAIN
// with a wrong password and CURVE with an unknown key each send frames, and a raw client sends garbage.
// No attacker gets an answer, and the job goes on and finishes with every result correct.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test as Tap } from 'tap';
import * as zmq from 'zeromq';
import { deriveJobKeys } from '../src/transport/keys.js';
import { encodeHeader, MessageKind, makeHeader, PayloadType } from '../src/wire/index.js';
import {
  jsonLines,
  listeningEndpoints,
  processesWithEnv,
  waitForNoProcesses,
} from './fixtures/hardening/procs.js';
import { startTsrun } from './helpers/ssh-tsrun.js';

const SPMD = new URL('./fixtures/hardening/guarded-spmd.ts', import.meta.url).pathname;
const DRIVER = new URL('./fixtures/hardening/guarded-driver.ts', import.meta.url).pathname;
const foreign = deriveJobKeys('ef'.repeat(32));
const dir = mkdtempSync(join(tmpdir(), 'tsrun-hardening-ports-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function wireFrame(source: number): Buffer[] {
  const h = makeHeader({ kind: MessageKind.PointToPoint, source, tag: 0, payloadType: PayloadType.Bytes });
  h.payloadBytes = 4;
  h.totalBytes = 4;
  return [encodeHeader(h), Buffer.from('evil')];
}

/** Attacks one endpoint; resolves to the number of answers any attacker got (must be 0). */
async function attack(endpoint: string): Promise<number> {
  const opts = { linger: 0, receiveTimeout: 600, sendTimeout: 200 };
  const sockets: zmq.Dealer[] = [
    new zmq.Dealer({ ...opts, routingId: '1' }),
    new zmq.Dealer({ ...opts, routingId: '1', plainUsername: 'tsrun', plainPassword: 'wrong' }),
    new zmq.Dealer({
      ...opts,
      routingId: '1',
      curveServerKey: foreign.server.publicKey,
      curvePublicKey: foreign.client.publicKey,
      curveSecretKey: foreign.client.secretKey,
    }),
  ];
  const raw = endpoint.startsWith('tcp://')
    ? net.connect(Number(endpoint.split(':').pop()), endpoint.slice(6).split(':')[0])
    : net.connect({ path: endpoint.slice(6) });
  raw.on('error', () => {});
  let answers = 0;
  raw.on('data', (d) => {
    // A ZMTP greeting (signature 0xff ... 0x7f) is the transport's handshake, not an accepted frame.
    if (!(d[0] === 0xff && d.length <= 64)) answers++;
  });
  raw.write(Buffer.alloc(2048, 0xab));
  await Promise.all(
    sockets.map(async (s) => {
      s.connect(endpoint);
      for (let i = 0; i < 3; i++) await s.send(wireFrame(i)).catch(() => {});
      try {
        await s.receive();
        answers++;
      } catch {
        // Timed out: no answer, as it must be.
      }
    }),
  );
  for (const s of sockets) s.close();
  raw.destroy();
  return answers;
}

const wildcard = (eps: { endpoint: string }[]) => eps.filter((e) => e.endpoint.startsWith('tcp://0.0.0.0:'));

interface Line {
  rank: number;
  ready?: boolean;
  ok?: boolean;
  rounds?: number;
  tasks?: number;
}

async function attackRunningJob(t: Tap, what: string, args: string[], readyRanks: number[]) {
  const runId = randomUUID();
  const stop = join(dir, `${runId}.stop`);
  const run = startTsrun(args, { HARDEN_RUN: runId, HARDEN_STOP_FILE: stop, TSRUN_ENCRYPT: '' });
  await Promise.all(readyRanks.map((r) => run.waitFor(new RegExp(`"rank":${r},"ready":true`), 60_000)));
  const endpoints = listeningEndpoints(processesWithEnv('HARDEN_RUN', runId));
  t.ok(endpoints.length > 0, `${what}: found ${endpoints.length} listening sockets`);
  t.same(wildcard(endpoints), [], `${what}: nothing listens on every interface`);
  t.comment(`${what}: ${endpoints.map((e) => e.endpoint).join(' ')}`);
  const answers = await Promise.all(endpoints.map((e) => attack(e.endpoint)));
  for (const [i, e] of endpoints.entries()) t.equal(answers[i], 0, `${what}: no answer from ${e.endpoint}`);
  writeFileSync(stop, '');
  const r = await run.result;
  t.equal(r.code, 0, `${what}: the job finished normally\n${r.stderr}`);
  const done = jsonLines<Line>(r.stdout).filter((l) => l.ok !== undefined);
  t.equal(done.length, readyRanks.length, `${what}: every rank reported`);
  for (const d of done) t.equal(d.ok, true, `${what}: rank ${d.rank} results correct (${JSON.stringify(d)})`);
  t.same(await waitForNoProcesses('HARDEN_RUN', runId, 5000), [], `${what}: nothing left running`);
  t.ok(existsSync(stop));
  return endpoints.length;
}

t.test('SPMD job, two per-node agents on loopback (TCP rendezvous)', async (t) => {
  // Per-node mode with --nnodes 2: the master port is TCP, as across real hosts.
  const runId = randomUUID();
  const port = String(20000 + Math.floor(Math.random() * 9000));
  const stop = join(dir, `${runId}.stop`);
  const env = { HARDEN_RUN: runId, HARDEN_STOP_FILE: stop, TSRUN_JOB_SECRET: 'ab'.repeat(32) };
  const common = [
    '--nnodes',
    '2',
    '--master-addr',
    '127.0.0.1',
    '--master-port',
    port,
    '--nproc-per-node',
    '2',
  ];
  const n0 = startTsrun([...common, '--node-rank', '0', SPMD], env);
  const n1 = startTsrun([...common, '--node-rank', '1', SPMD], env);
  await Promise.all([0, 1].map((r) => n0.waitFor(new RegExp(`"rank":${r},"ready":true`), 60_000)));
  await Promise.all([2, 3].map((r) => n1.waitFor(new RegExp(`"rank":${r},"ready":true`), 60_000)));
  const endpoints = listeningEndpoints(processesWithEnv('HARDEN_RUN', runId));
  t.ok(
    endpoints.some((e) => e.endpoint.endsWith(`:${port}`)),
    `the rendezvous port ${port} is among the ${endpoints.length} attacked sockets`,
  );
  t.comment(endpoints.map((e) => e.endpoint).join(' '));
  t.same(
    wildcard(endpoints),
    [],
    'nothing listens on every interface (binds to the one reaching the master)',
  );
  const answers = await Promise.all(endpoints.map((e) => attack(e.endpoint)));
  for (const [i, e] of endpoints.entries()) t.equal(answers[i], 0, `no answer from ${e.endpoint}`);
  writeFileSync(stop, '');
  const [r0, r1] = await Promise.all([n0.result, n1.result]);
  t.equal(r0.code, 0, r0.stderr);
  t.equal(r1.code, 0, r1.stderr);
  const done = jsonLines<Line>(r0.stdout + r1.stdout).filter((l) => l.ok);
  t.equal(done.length, 4, 'every rank finished its checked all-reduces');
  t.same(await waitForNoProcesses('HARDEN_RUN', runId, 5000), []);
});

t.test('SPMD job, one node, data plane encrypted', async (t) => {
  await attackRunningJob(
    t,
    'spmd --encrypt',
    ['--nproc-per-node', '3', '-x', 'TSRUN_ENCRYPT=1', SPMD],
    [0, 1, 2],
  );
});

t.test('pool job (tsrun --pool): head, workers, object servers', async (t) => {
  await attackRunningJob(t, 'pool', ['--pool', '--nproc-per-node', '3', DRIVER], [0]);
});
