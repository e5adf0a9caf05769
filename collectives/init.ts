import { resolveHostAddress } from '../src/engines/resolve-host.js';
import { readRankEnvironment } from '../src/env.js';
import { RendezvousError } from '../src/errors.js';
import { exchangeEndpoints, waitForAllConnected } from '../src/rendezvous/rendezvous.js';
import { StoreClient } from '../src/rendezvous/store-client.js';
import { StoreServer } from '../src/rendezvous/store-server.js';
import { hostIdentity, localAddressReaching, privateIpcDir } from '../src/transport/host-identity.js';
import { deriveJobKeys } from '../src/transport/keys.js';
import { type PeerEndpoint, PeerMesh } from '../src/transport/peer-mesh.js';
import { sharedMemoryDir } from '../src/transport/shm-dir.js';
import { socketOptions } from '../src/transport/socket-options.js';
import { hostIndices, spansHostsWithSharing } from './algorithms/host-layout.js';
import { alignTraceClock, traceCollectives } from './call-trace.js';
import { COLLECTIVES_ENV, type CollectivesConfig, readCollectivesConfig } from './collectives-config.js';
import { GroupCore } from './group-core.js';
import { stopWatching, watchForIdleExit } from './idle-exit.js';
import { ProcessGroup } from './process-group.js';
import { World } from './world.js';

export interface InitOptions {
  /** Default timeout of every collective of the world group, in ms (default: TSRUN_TIMEOUT_MS or 5 minutes). */
  timeoutMs?: number;
  /** How long to wait for every rank to join, in ms (default: TSRUN_RENDEZVOUS_TIMEOUT_MS or 300000). */
  rendezvousTimeoutMs?: number;
  /** CURVE-encrypt rank-to-rank data (default: TSRUN_ENCRYPT=1). The control plane is always encrypted. */
  encrypt?: boolean;
  /**
   * Address to bind this rank's TCP endpoints (and, on rank 0, the rendezvous store) to. Default:
   * TSRUN_BIND_ADDR, else the local address of the interface that reaches MASTER_ADDR.
   */
  bindAddress?: string;
  /** Environment to read instead of process.env (tests): the rank's variables and its config. */
  env?: Record<string, string | undefined>;
}

export const DEFAULT_TIMEOUT_MS = COLLECTIVES_ENV.timeoutMs.default;

const liveWorlds = new Set<ProcessGroup>();

/**
 * Destroys every world group this process created and did not destroy (what a harness or wrapper runs
 * once the user's code is done, so queued messages are delivered before the process exits).
 */
export async function destroyAll(): Promise<void> {
  const all = [...liveWorlds];
  liveWorlds.clear();
  await Promise.all(all.map((pg) => pg.destroy()));
}

function track(pg: ProcessGroup, config: CollectivesConfig): ProcessGroup {
  liveWorlds.add(pg);
  pg.onDestroy(() => {
    liveWorlds.delete(pg);
    if (liveWorlds.size === 0) stopWatching();
  });
  if (pg.size > 1) watchForIdleExit(destroyAll, pg.ranks[pg.rank], config.autoDestroy);
  return pg;
}

/**
 * Joins the job: reads rank, world size and master from the environment (tsrun/torchrun, Open MPI,
 * MPICH or Slurm variables), meets the other ranks at the rendezvous store that rank 0 serves at
 * MASTER_ADDR:MASTER_PORT, connects to every peer and returns the world process group.
 */
export async function init(opts: InitOptions = {}): Promise<ProcessGroup> {
  const env = readRankEnvironment(opts.env ?? process.env);
  const config = readCollectivesConfig(opts.env ?? process.env);
  const timeoutMs = opts.timeoutMs ?? config.timeoutMs;
  const rdzvMs = opts.rendezvousTimeoutMs ?? config.rendezvousTimeoutMs;
  const encrypt = opts.encrypt ?? config.encrypt;
  const { transport } = config;
  traceCollectives(env.rank);
  if (env.size === 1) {
    const world = new World(0, 1, env.localRank, env.localSize, undefined, undefined, undefined);
    const core = new GroupCore(world, 0, [0], 0, timeoutMs);
    world.register(0, core);
    return track(new ProcessGroup(core), config);
  }
  if (env.masterAddrFrom) env.masterAddr = await resolveHostAddress(env.masterAddr, env.masterAddrFrom);
  if (!env.authenticated && env.rank === 0 && env.source !== 'tsrun') {
    process.stderr.write(
      `tsrun: warning: TSRUN_JOB_SECRET is not set; the job's keys are derived from ${env.jobIdentity ? 'its job id' : 'the master address'}, ` +
        'so it is not authenticated. Export the same TSRUN_JOB_SECRET on every rank (e.g. mpirun -x TSRUN_JOB_SECRET; sbatch and srun pass it on).\n',
    );
  }
  const keys = deriveJobKeys(env.secret);
  const bindAddress =
    opts.bindAddress || transport.bindAddress || (await localAddressReaching(env.masterAddr, env.masterPort));
  const socket = socketOptions(transport);
  const server =
    env.rank === 0 ? await StoreServer.serve(bindAddress, env.masterPort, keys, socket) : undefined;
  const store = StoreClient.connect(env.masterAddr, env.masterPort, keys, socket);
  let mesh: PeerMesh | undefined;
  let peers: PeerEndpoint[];
  try {
    mesh = await PeerMesh.listen({
      rank: env.rank,
      size: env.size,
      keys,
      encrypt,
      bindAddress,
      host: hostIdentity(),
      ipcDir: privateIpcDir(keys.jobId),
      ipcOnly: env.localSize === env.size,
      shmDir: env.localSize > 1 ? sharedMemoryDir(keys.jobId, transport) : undefined,
      transport,
    });
    peers = await exchangeEndpoints(store, mesh.local, env.size, rdzvMs);
    await alignTraceClock(store, env.rank, env.localRank);
    try {
      await mesh.connect(peers, rdzvMs);
    } catch (e) {
      throw new RendezvousError(`rank ${env.rank}: ${(e as Error).message}`);
    }
    await waitForAllConnected(store, env.rank, env.size, rdzvMs);
  } catch (e) {
    await mesh?.close();
    store.close();
    server?.close();
    throw e;
  }
  const world = new World(env.rank, env.size, env.localRank, env.localSize, mesh, store, server);
  if (config.hierarchical) {
    const hosts = hostIndices(peers.map((p) => p.host));
    if (spansHostsWithSharing(hosts)) world.hosts = hosts;
  }
  const core = new GroupCore(
    world,
    0,
    Array.from({ length: env.size }, (_, r) => r),
    env.rank,
    timeoutMs,
  );
  world.register(0, core);
  world.start();
  return track(new ProcessGroup(core), config);
}
