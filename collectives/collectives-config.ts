/**
 * The configuration of `init()` and the groups it makes: what a rank takes from its environment besides
 * who it is (src/env.ts reads that). `init()` reads it from `opts.env` (else process.env) when it builds
 * the world group; its options win over every field.
 */
import {
  type ConfigOf,
  choiceField,
  type Env,
  intField,
  offField,
  onField,
  readEnvSpec,
  textField,
} from '../src/env-fields.js';
import { readTransportConfig, type TransportConfig } from '../src/transport/transport-config.js';

export const COLLECTIVES_ENV = {
  /** Default timeout of every collective of the world group, in ms (`init({ timeoutMs })`). Default 5 minutes. */
  timeoutMs: intField('TSRUN_TIMEOUT_MS', 5 * 60_000),
  /** How long `init()` waits for every rank to join, in ms (`init({ rendezvousTimeoutMs })`). Default 5 minutes. */
  rendezvousTimeoutMs: intField('TSRUN_RENDEZVOUS_TIMEOUT_MS', 300_000),
  /** `1`: CURVE-encrypt rank-to-rank data too (`init({ encrypt: true })`); the control plane always is. */
  encrypt: onField('TSRUN_ENCRYPT'),
  /**
   * What a rank does when its program looks finished with a group still open: `hint` (unset) prints a
   * hint after 10 s, `destroy` (`1`) destroys the groups after 1 s, `off` (`0`) does neither.
   */
  autoDestroy: choiceField('TSRUN_AUTO_DESTROY', 'hint', { '1': 'destroy', '0': 'off' }),
  /** When a group fails, write this rank's flight record to DIR/rank-<r>.json (`tsrun --dump-on-failure`). */
  flightDir: textField('TSRUN_FLIGHT_DIR'),
  /**
   * On by default; `0` keeps every algorithm flat. When on, an all-reduce above 64 KiB is hierarchical (in-host,
   * then across hosts, pipelined) when the group spans hosts and some host holds more than one of its ranks:
   * bench:hierarchical measured it at 0.63-0.70x the flat ring's time over 1 Gbit links (README, "Hierarchical
   * all-reduce across hosts").
   */
  hierarchical: offField('TSRUN_HIERARCHICAL'),
};

export type CollectivesConfig = ConfigOf<typeof COLLECTIVES_ENV> & {
  /** The mesh's chunk size, heartbeat timeout, bind address and shared-memory switch. */
  readonly transport: TransportConfig;
};

export function readCollectivesConfig(env: Env = process.env): CollectivesConfig {
  return { ...readEnvSpec(COLLECTIVES_ENV, env), transport: readTransportConfig(env) };
}
