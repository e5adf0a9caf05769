/**
 * connect(): attach to a cluster, or start an embedded one. Order: opts.address, TSRUN_POOL_ADDRESS,
 * the cluster recorded by `tsrun cluster start` on this host (if its head is alive), else an embedded
 * pool (a head inside this process and one worker process per core), like ray.init().
 */
import { existsSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { newJobSecret } from '../process/local-spawner.js';
import { driverSampler, FEED_KEY } from '../telemetry/cluster-feed.js';
import { hostIdentity } from '../transport/host-identity.js';
import { deriveJobKeys } from '../transport/keys.js';
import { UNIX_SCHEME } from '../transport/message-carrier.js';
import { readHeadInfo, readSecretFile, secretPath } from './cluster-files.js';
import { PoolConnectError, PoolUsageError } from './errors.js';
import { Head } from './head.js';
import { HeadLink, type HelloBody } from './head-link.js';
import { LocalHeadLink } from './local-head-link.js';
import { NodeAgent } from './node-agent.js';
import { ObjectFetcher, ObjectServer } from './object-server.js';
import { type OwnedCluster, Pool } from './pool.js';
import { readPoolConfig } from './pool-config.js';

export interface ConnectOptions {
  /** HOST:PORT of a running head (default: TSRUN_POOL_ADDRESS). */
  address?: string;
  /** Cluster secret (default: TSRUN_POOL_SECRET, then the secret file `tsrun cluster start` wrote). */
  secret?: string;
  /** Workers of an embedded pool (default: one per core). */
  workers?: number;
  /** cpus each embedded worker offers to tasks (default 1). */
  cpusPerWorker?: number;
  /** How long to wait for the head's answer (default 10 s). */
  timeoutMs?: number;
  /**
   * Object store memory in bytes (default TSRUN_OBJECT_STORE_BYTES, else 30% of RAM): this driver's
   * own store, and an embedded pool's node (split among its workers). Past it objects spill to disk.
   */
  objectStoreBytes?: number;
}

/** A head started by `tsrun --pool` in this process: close() of its driver stops the job's cluster. */
const OWNED_HEAD = Symbol.for('tsrun.pool.ownedHead');
interface OwnedHead {
  address: string;
  stop: () => Promise<void>;
  workers: number;
  /** The head itself: its driver talks to it in memory (local-head-link.ts). */
  head: Head;
}
type Global = typeof globalThis & { [OWNED_HEAD]?: OwnedHead };

export function registerOwnedHead(h: OwnedHead): void {
  (globalThis as Global)[OWNED_HEAD] = h;
}

function endpointOf(address: string): string {
  if (address.startsWith('tcp://') || address.startsWith('ipc://') || address.startsWith(UNIX_SCHEME))
    return address;
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(address);
  if (!m) throw new PoolUsageError(`pool address ${JSON.stringify(address)} is not HOST:PORT`);
  return `tcp://${m[1]}:${m[2]}`;
}

async function openDriver(
  endpoint: string,
  secret: string,
  timeoutMs: number | undefined,
  owned?: OwnedCluster,
  storeBytes?: number,
  /** The head, when it runs in this process (an embedded pool): then no socket stands between them. */
  localHead?: Head,
): Promise<Pool> {
  const keys = deriveJobKeys(secret);
  const host = hostIdentity();
  const hello: HelloBody = { role: 'driver', pid: process.pid, host, hostname: hostname() };
  const { link, welcome } = localHead
    ? await LocalHeadLink.open(localHead, hello, timeoutMs)
    : await HeadLink.open(endpoint, keys, hello, timeoutMs);
  // A head serving a dashboard shows each driver's own RSS and CPU, sent with its heartbeat.
  if (welcome.dashboard) {
    const sample = driverSampler();
    link.heartbeatBody = () => ({ [FEED_KEY]: sample() });
  }
  const { server } = await ObjectServer.forHead(endpoint, keys, host, storeBytes);
  return new Pool(
    link,
    Number(welcome.clientId),
    server,
    new ObjectFetcher(keys, host),
    owned,
    Number(welcome.workers ?? 0),
  );
}

export async function connect(opts: ConnectOptions = {}): Promise<Pool> {
  const owned = (globalThis as Global)[OWNED_HEAD];
  const config = readPoolConfig();
  let address = opts.address || config.address;
  let secret = opts.secret || config.secret;
  const info = readHeadInfo();
  if (!address && info) {
    address = info.address;
    secret ??= readSecretFile();
  }
  if (address) {
    secret ??= readSecretFile();
    if (!secret) {
      throw new PoolConnectError(
        `no cluster secret for ${address}: set TSRUN_POOL_SECRET (the head wrote it to ${secretPath()})`,
      );
    }
    const mine = owned && owned.address === address ? owned : undefined;
    // This host's cluster (a `tsrun job` driver, a script beside `tsrun cluster start`): its Unix socket.
    const endpoint =
      info?.local && info.address === address && existsSync(info.local.slice(UNIX_SCHEME.length))
        ? info.local
        : endpointOf(address);
    return openDriver(endpoint, secret, opts.timeoutMs, mine, opts.objectStoreBytes, mine?.head);
  }
  return startEmbedded(opts);
}

async function startEmbedded(opts: ConnectOptions): Promise<Pool> {
  const workers = opts.workers ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 1) {
    throw new PoolUsageError(`connect({ workers: ${workers} }): workers must be an integer ≥ 1`);
  }
  const secret = newJobSecret();
  const head = await Head.start(deriveJobKeys(secret), '127.0.0.1', 0);
  let agent: NodeAgent | undefined;
  try {
    agent = await NodeAgent.start({
      endpoint: head.tcp,
      secret,
      workers,
      cpusPerWorker: opts.cpusPerWorker,
      objectStoreBytes: opts.objectStoreBytes,
    });
    const a = agent;
    const pool = await openDriver(
      head.ipc,
      secret,
      opts.timeoutMs,
      {
        workers,
        stop: async () => {
          await a.stop();
          await head.close();
        },
      },
      opts.objectStoreBytes,
      head,
    );
    // Return once every worker has joined, so the first tasks and any timing start on a full pool.
    const deadline = Date.now() + 60_000;
    while (head.workers.size < workers && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (head.workers.size < workers) {
      await pool.close();
      throw new PoolConnectError(
        `only ${head.workers.size} of ${workers} embedded workers started within 60 s (see their stderr above)`,
      );
    }
    return pool;
  } catch (e) {
    await agent?.stop();
    await head.close();
    throw e;
  }
}
