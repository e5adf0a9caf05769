/**
 * Every setting of the task pool that comes from the environment, in one place: each field names its
 * variable, its default and what it changes. Read by readPoolConfig() when a head, link, driver, worker
 * or store is built, never at import, so a process (or a test) that sets a variable before building one
 * gets it. The README's environment table documents the same variables.
 */
import { homedir } from 'node:os';
import path from 'node:path';

export interface PoolConfig {
  /**
   * TSRUN_POOL_CLIENT_TIMEOUT_MS, default 30000: silence after which the head drops a node agent and
   * its workers. Node agents only wait on sockets, so this long a silence means their host is gone.
   */
  nodeSilenceMs: number;
  /**
   * TSRUN_POOL_DRIVER_TIMEOUT_MS, default 600000: silence after which the head drops a driver and frees
   * what it owns. A driver may compute synchronously for minutes between heartbeats.
   */
  driverSilenceMs: number;
  /**
   * TSRUN_POOL_HEAD_TIMEOUT_MS, default 30000: silence of the head after which a driver's pending refs
   * reject with HeadLostError and a node agent stops its workers (0 = never).
   */
  headSilenceMs: number;
  /** TSRUN_POOL_CONNECT_TIMEOUT_MS, default 10000: how long connect() waits for the head's Welcome. */
  connectTimeoutMs: number;
  /**
   * TSRUN_POOL_INLINE_BYTES, default 102400: results and put() values at most this large travel inline
   * (with the completion, then with dependent tasks); larger ones stay in their holder's object store.
   */
  inlineMaxBytes: number;
  /**
   * TSRUN_POOL_BUFFER_MS, default 10: how much work (in ms of average task time) a worker holds queued
   * plus in credit at the head. More batches tiny tasks better; less balances long ones better.
   */
  bufferMs: number;
  /** TSRUN_POOL_PREFETCH, default 1024: the most tasks a worker holds at once, however short they are. */
  maxHold: number;
  /** TSRUN_POOL_FETCH_TIMEOUT_MS, default 120000: how long fetching an object from its holder may take. */
  fetchTimeoutMs: number;
  /**
   * TSRUN_OBJECT_STORE_BYTES, default unset (30% of the host's RAM): a node's object store memory, as
   * given (spill-store.ts validates it and names the variable when it is not a positive integer).
   */
  objectStoreBytes: string | undefined;
  /** TSRUN_SPILL_DIR, default the system temp dir: where object stores spill past their memory. */
  spillRoot: string | undefined;
  /**
   * TSRUN_CLUSTER_DIR, default ~/.tsrun/cluster: where `tsrun cluster start` writes the cluster's secret
   * and head.json, and where connect() looks for a running cluster.
   */
  clusterDir: string;
  /** TSRUN_POOL_ADDRESS, default unset: HOST:PORT of the head connect() attaches to. */
  address: string | undefined;
  /** TSRUN_POOL_SECRET, default unset (then the secret file): the cluster secret. */
  secret: string | undefined;
  /** TSRUN_POOL_HEAD (set by the node agent for its workers): the head endpoint a worker joins. */
  headEndpoint: string;
  /** TSRUN_POOL_CPUS, default 1 (set by the node agent): cpus a worker offers to tasks. */
  workerCpus: number;
  /** TSRUN_POOL_NODE_PID (set by the node agent): the pid of a worker's node agent. */
  nodePid: number;
}

/** The pool's settings from env (default: this process's environment). */
export function readPoolConfig(env: NodeJS.ProcessEnv = process.env): PoolConfig {
  return {
    nodeSilenceMs: Number(env.TSRUN_POOL_CLIENT_TIMEOUT_MS ?? 30_000),
    driverSilenceMs: Number(env.TSRUN_POOL_DRIVER_TIMEOUT_MS ?? 600_000),
    headSilenceMs: Number(env.TSRUN_POOL_HEAD_TIMEOUT_MS ?? 30_000),
    connectTimeoutMs: Number(env.TSRUN_POOL_CONNECT_TIMEOUT_MS ?? 10_000),
    inlineMaxBytes: Number(env.TSRUN_POOL_INLINE_BYTES ?? 100 * 1024),
    bufferMs: Number(env.TSRUN_POOL_BUFFER_MS ?? 10),
    maxHold: Number(env.TSRUN_POOL_PREFETCH ?? 1024),
    fetchTimeoutMs: Number(env.TSRUN_POOL_FETCH_TIMEOUT_MS ?? 120_000),
    objectStoreBytes: env.TSRUN_OBJECT_STORE_BYTES,
    spillRoot: env.TSRUN_SPILL_DIR || undefined,
    clusterDir: env.TSRUN_CLUSTER_DIR ?? path.join(homedir(), '.tsrun', 'cluster'),
    address: env.TSRUN_POOL_ADDRESS || undefined,
    secret: env.TSRUN_POOL_SECRET || undefined,
    headEndpoint: env.TSRUN_POOL_HEAD ?? '',
    workerCpus: Number(env.TSRUN_POOL_CPUS ?? 1),
    nodePid: Number(env.TSRUN_POOL_NODE_PID ?? 0),
  };
}
