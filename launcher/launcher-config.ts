/**
 * What the launcher takes from its environment besides its flags (each flag's own environment twin sits
 * with the flag in cli-flags.ts). Read when a command runs, from the environment it is given.
 */
import {
  type ConfigOf,
  choiceField,
  type Env,
  optionalIntField,
  readEnvSpec,
  textField,
} from '../src/env-fields.js';

export const LAUNCHER_ENV = {
  /**
   * The job's secret (64 hex chars): every key and token of the job is derived from it. Unset: tsrun makes
   * one for a single node; the nodes of a per-node job derive a common one (and warn: nothing is
   * authenticated then).
   */
  jobSecret: textField('TSRUN_JOB_SECRET'),
  /** `tsrun cluster`: the cluster secret (else the file the head wrote, ~/.tsrun/cluster/secret). */
  poolSecret: textField('TSRUN_POOL_SECRET'),
  /** `tsrun cluster`: HOST:PORT of the head (after --address, before this host's running cluster). */
  poolAddress: textField('TSRUN_POOL_ADDRESS'),
};

export type LauncherConfig = ConfigOf<typeof LAUNCHER_ENV>;

export function readLauncherConfig(env: Env = process.env): LauncherConfig {
  return readEnvSpec(LAUNCHER_ENV, env);
}

/**
 * Internal: how `tsrun cluster start` (cluster-cli.ts) tells the daemon it starts in the background
 * (cluster-daemon.ts) what to run. The secret travels as TSRUN_POOL_SECRET (LAUNCHER_ENV.poolSecret).
 */
export const CLUSTER_DAEMON_ENV = {
  /** `head`: serve the head (and this host's workers); anything else: a node agent joining `address`. */
  role: choiceField('TSRUN_CLUSTER_ROLE', 'node', { head: 'head' }),
  /** Head: the address the head binds. Default 0.0.0.0. */
  bind: textField('TSRUN_CLUSTER_BIND', '0.0.0.0'),
  /** Head: the host part of the address it prints and writes for clients. Default 127.0.0.1. */
  advertise: textField('TSRUN_CLUSTER_ADVERTISE', '127.0.0.1'),
  /** Head: its port (0 = any free port). */
  port: optionalIntField('TSRUN_CLUSTER_PORT'),
  /** Workers this daemon starts on its host (default 0 for a head, 1 for a node). */
  workers: optionalIntField('TSRUN_CLUSTER_WORKERS'),
  /** Node: HOST:PORT of the head to join. */
  address: textField('TSRUN_CLUSTER_ADDRESS', ''),
  /** Head: serve the cluster dashboard on this port (0 = any free port); unset: no dashboard. */
  dashboardPort: optionalIntField('TSRUN_CLUSTER_DASHBOARD_PORT'),
  /** Head: the address the dashboard binds (default 127.0.0.1). */
  dashboardHost: textField('TSRUN_CLUSTER_DASHBOARD_HOST'),
};

export type ClusterDaemonConfig = ConfigOf<typeof CLUSTER_DAEMON_ENV>;

export function readClusterDaemonConfig(env: Env = process.env): ClusterDaemonConfig {
  return readEnvSpec(CLUSTER_DAEMON_ENV, env);
}
