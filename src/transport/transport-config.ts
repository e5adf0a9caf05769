/**
 * The transport's configuration: what the peer mesh, the socket options and the shared-memory plane take
 * from the environment. Read by whoever builds a mesh (collectives/init.ts through its own config), not
 * at import.
 */
import { type ConfigOf, type Env, intField, offField, readEnvSpec, textField } from '../env-fields.js';

export const TRANSPORT_ENV = {
  /**
   * A silent (unreachable) peer connection is dropped after this many ms: ZMTP heartbeats on ZeroMQ
   * connections, TCP keepalive on the TCP links (stream-links.ts). Default 60000.
   */
  heartbeatTimeoutMs: intField('TSRUN_HEARTBEAT_TIMEOUT_MS', 60_000),
  /**
   * Large payloads travel as messages of this many bytes (pipelined). Default 1 MiB: the measured fastest
   * range on ipc:// and tcp loopback is 256 KiB–4 MiB.
   */
  chunkBytes: intField('TSRUN_CHUNK_BYTES', 1 << 20),
  /** Address to bind TCP endpoints to (`tsrun --bind` sets it); unset: the interface that reaches the master. */
  bindAddress: textField('TSRUN_BIND_ADDR'),
  /** Same-host payloads go through the shared-memory slots; `TSRUN_SHM=0` sends them over ZeroMQ. */
  sharedMemory: offField('TSRUN_SHM'),
  /**
   * Ranks on one host exchange messages over framed Unix sockets (stream-links.ts), without ZeroMQ's I/O
   * threads; `TSRUN_LOCAL_SOCKETS=0` sends them over ZeroMQ ipc:// instead.
   */
  localSockets: offField('TSRUN_LOCAL_SOCKETS'),
  /**
   * Ranks on different hosts exchange messages over framed TCP streams read into one reused buffer
   * (stream-links.ts) instead of ZeroMQ; `TSRUN_TCP_SOCKETS=0` uses ZeroMQ tcp://. Encrypted jobs
   * (`--encrypt`) always use ZeroMQ CURVE across hosts.
   */
  tcpSockets: offField('TSRUN_TCP_SOCKETS'),
};

export type TransportConfig = ConfigOf<typeof TRANSPORT_ENV>;

export function readTransportConfig(env: Env = process.env): TransportConfig {
  return readEnvSpec(TRANSPORT_ENV, env);
}
