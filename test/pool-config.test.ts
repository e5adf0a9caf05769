// The pool's settings (src/pool/pool-config.ts) and its wire-error factories (src/pool/errors.ts), unit by
// unit: defaults, each environment twin, and the typed error a driver rebuilds from each factory's record.
import t from 'tap';
import {
  ActorDiedError,
  errorFromWire,
  ObjectLostError,
  PoolUsageError,
  RemoteError,
  WorkerLostError,
  wireActorDied,
  wireArgumentFreed,
  wireObjectLost,
  wireRemoteFailure,
  wireSpmdPeerLost,
  wireSpmdTooFewWorkers,
  wireTooManyCpus,
  wireWorkerLost,
} from '../src/pool/errors.js';
import { readPoolConfig } from '../src/pool/pool-config.js';
import { pushBlob, storedFromBlobs } from '../src/pool/protocol.js';
import { DType, PayloadType } from '../src/wire/index.js';

t.test('readPoolConfig: defaults with an empty environment', async (t) => {
  const c = readPoolConfig({ TSRUN_CLUSTER_DIR: '/tmp/x' });
  t.match(c, {
    nodeSilenceMs: 30_000,
    driverSilenceMs: 600_000,
    headSilenceMs: 30_000,
    connectTimeoutMs: 10_000,
    inlineMaxBytes: 100 * 1024,
    bufferMs: 10,
    maxHold: 1024,
    fetchTimeoutMs: 120_000,
    objectStoreBytes: undefined,
    spillRoot: undefined,
    clusterDir: '/tmp/x',
    address: undefined,
    secret: undefined,
    headEndpoint: '',
    workerCpus: 1,
    nodePid: 0,
  });
  t.match(readPoolConfig({}).clusterDir, /\.tsrun[/\\]cluster$/, 'cluster files default to ~/.tsrun/cluster');
});

t.test('readPoolConfig: every field from its environment twin, read at the call', async (t) => {
  const env = {
    TSRUN_POOL_CLIENT_TIMEOUT_MS: '1',
    TSRUN_POOL_DRIVER_TIMEOUT_MS: '2',
    TSRUN_POOL_HEAD_TIMEOUT_MS: '3',
    TSRUN_POOL_CONNECT_TIMEOUT_MS: '4',
    TSRUN_POOL_INLINE_BYTES: '5',
    TSRUN_POOL_BUFFER_MS: '6',
    TSRUN_POOL_PREFETCH: '7',
    TSRUN_POOL_FETCH_TIMEOUT_MS: '8',
    TSRUN_OBJECT_STORE_BYTES: '9',
    TSRUN_SPILL_DIR: '/spill',
    TSRUN_CLUSTER_DIR: '/cluster',
    TSRUN_POOL_ADDRESS: 'h:1',
    TSRUN_POOL_SECRET: 's',
    TSRUN_POOL_HEAD: 'tcp://h:1',
    TSRUN_POOL_CPUS: '4',
    TSRUN_POOL_NODE_PID: '42',
  };
  t.same(readPoolConfig(env), {
    nodeSilenceMs: 1,
    driverSilenceMs: 2,
    headSilenceMs: 3,
    connectTimeoutMs: 4,
    inlineMaxBytes: 5,
    bufferMs: 6,
    maxHold: 7,
    fetchTimeoutMs: 8,
    objectStoreBytes: '9',
    spillRoot: '/spill',
    clusterDir: '/cluster',
    address: 'h:1',
    secret: 's',
    headEndpoint: 'tcp://h:1',
    workerCpus: 4,
    nodePid: 42,
  });
  t.equal(
    readPoolConfig({ ...env, TSRUN_POOL_ADDRESS: '', TSRUN_SPILL_DIR: '' }).address,
    undefined,
    'empty = unset',
  );
  const before = process.env.TSRUN_POOL_INLINE_BYTES;
  process.env.TSRUN_POOL_INLINE_BYTES = '77';
  try {
    t.equal(readPoolConfig().inlineMaxBytes, 77, 'process.env is read when called, not at import');
  } finally {
    if (before === undefined) delete process.env.TSRUN_POOL_INLINE_BYTES;
    else process.env.TSRUN_POOL_INLINE_BYTES = before;
  }
});

t.test('wire-error factories come back as the typed errors their kind names', async (t) => {
  const at = { host: 'h', pid: 7, attempt: 2 };
  t.type(errorFromWire(wireArgumentFreed('1.2', 'tasks.ts#f', 1)), ObjectLostError);
  t.type(errorFromWire(wireObjectLost('1.3', 'worker pid 7 exited', at)), ObjectLostError);
  t.type(errorFromWire(wireWorkerLost('tasks.ts#f', 'gone', at)), WorkerLostError);
  t.match(errorFromWire(wireSpmdPeerLost('tasks.ts#f', 'gone', at)).message, /a rank of the SPMD group lost/);
  t.type(errorFromWire(wireTooManyCpus('tasks.ts#f', 8, 2)), PoolUsageError);
  t.match(errorFromWire(wireSpmdTooFewWorkers('tasks.ts#f', 5, 2)).message, /spmd needs 5 workers .* has 2/);
  t.type(errorFromWire(wireActorDied('actor A', 'killed', at)), ActorDiedError);
  const remote = errorFromWire(
    wireRemoteFailure('tasks.ts#f', { name: 'TypeError', message: 'm', stack: 's' }, at),
  );
  t.type(remote, RemoteError);
  t.match(remote.message, /tasks\.ts#f failed on h \(pid 7, attempt 2\): TypeError: m/);
  t.match(wireRemoteFailure('t', undefined, at), { name: 'Error', message: 'unknown failure' });
});

t.test('storedFromBlobs inverts pushBlob', async (t) => {
  const stored = {
    payloadType: PayloadType.Typed,
    dtype: DType.Float32,
    count: 2,
    frames: [new Uint8Array(8).fill(1)],
  };
  const blobs: Uint8Array[] = [new Uint8Array(3)];
  const meta = pushBlob(blobs, stored);
  t.same(storedFromBlobs(meta, blobs), stored);
});
