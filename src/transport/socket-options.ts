/**
 * Socket options shared by every tsrun socket, in one place. The numbers come from measurements on a
 * 2-core machine (see bench/collectives.ts) and from what keeps a job from hanging: nothing lingers after
 * close, sends never block forever, and dead peers are noticed by ZMTP heartbeats even when TCP is silent.
 */
export const SOCKET_DEFAULTS = {
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
  heartbeatTimeout: Number(process.env.TSRUN_HEARTBEAT_TIMEOUT_MS ?? 60_000),
  heartbeatTimeToLive: 60_000,
  reconnectInterval: 100,
  reconnectMaxInterval: 2_000,
} as const;

/** Bytes per chunk for large payloads: measured fastest range on ipc:// and tcp loopback is 256 KiB–4 MiB. */
export const CHUNK_BYTES = Number(process.env.TSRUN_CHUNK_BYTES ?? 1 << 20);
