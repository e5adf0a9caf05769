/**
 * Socket options shared by every tsrun socket, in one place. The numbers come from measurements on a
 * 2-core machine (see bench/collectives.ts) and from what keeps a job from hanging: nothing lingers after
 * close, sends never block forever, and dead peers are noticed by ZMTP heartbeats even when TCP is silent.
 */
import { readTransportConfig, type TransportConfig } from './transport-config.js';

const FIXED = {
  /** Drop unsent messages on close: a closing rank has nothing left that anyone can use. */
  linger: 0,
  /** A send that cannot be queued for this long fails instead of hanging the caller. */
  sendTimeout: 60_000,
  /**
   * High-water marks in messages. Large payloads travel as 1 MiB chunks; 4096 chunks in flight per peer
   * is 4 GiB, above any single collective, so the algorithms' own flow (which is bounded) never blocks.
   */
  sendHighWaterMark: 4096,
  receiveHighWaterMark: 4096,
  /** ZMTP heartbeats: a peer whose host vanished (no FIN/RST) is dropped after heartbeatTimeout. */
  heartbeatInterval: 2_000,
  heartbeatTimeToLive: 60_000,
  reconnectInterval: 100,
  reconnectMaxInterval: 2_000,
} as const;

export type SocketOptions = typeof FIXED & { heartbeatTimeout: number };

/** The options of every socket, with the heartbeat timeout of `config` (TSRUN_HEARTBEAT_TIMEOUT_MS). */
export function socketOptions(config: Pick<TransportConfig, 'heartbeatTimeoutMs'>): SocketOptions {
  return { ...FIXED, heartbeatTimeout: config.heartbeatTimeoutMs };
}

/** The options for a socket built with the environment's transport config, read now. */
export function socketOptionsFromEnv(): SocketOptions {
  return socketOptions(readTransportConfig());
}

// src/pool takes no transport config yet, so it reads these two once, when it is imported; the rest of
// the package reads its config when it builds a socket.
/** Socket options for src/pool (see above). */
export const SOCKET_DEFAULTS: SocketOptions = socketOptionsFromEnv();
/** Bytes per chunk of large payloads for src/pool (TSRUN_CHUNK_BYTES). */
export const CHUNK_BYTES: number = readTransportConfig().chunkBytes;
