/**
 * A client's control connection to the head: a CURVE DEALER (the head's ZAP handler admits only the
 * cluster's client key), heartbeats both ways, and one callback per message. Drivers, workers, node
 * agents and `tsrun cluster status|stop` all talk to the head through this.
 */
import * as zmq from 'zeromq';
import type { JobKeys } from '../transport/keys.js';
import { SendQueue } from '../transport/send-queue.js';
import { SOCKET_DEFAULTS } from '../transport/socket-options.js';
import { HeadLostError, PoolConnectError } from './errors.js';
import { readPoolConfig } from './pool-config.js';
import { decodePool, encodePool, type PoolMessage, PoolOp } from './protocol.js';

export const HEARTBEAT_MS = 1000;

export interface HelloBody {
  role: 'driver' | 'worker' | 'node' | 'admin';
  pid: number;
  host: string;
  hostname: string;
  [k: string]: unknown;
}

/**
 * What a driver needs of its connection to the head: the socket link below, or, for a pool embedded in
 * the driver's own process, the in-process link of local-head-link.ts.
 */
export interface HeadConnection {
  readonly address: string;
  onMessage: (m: PoolMessage) => void;
  onLost: (e: Error) => void;
  heartbeatBody: () => unknown;
  readonly lost: Error | undefined;
  send(op: PoolOp, body: unknown, blobs?: Uint8Array[]): void;
  sendNow(op: PoolOp, body: unknown): Promise<void>;
  close(): void;
}

/**
 * Decodes one message from the head and hands it to onMessage: malformed frames and heartbeats are
 * dropped, and a message this process cannot handle is reported, never allowed to end its reader.
 */
export function deliverFromHead(frames: Uint8Array[], onMessage: (m: PoolMessage) => void): void {
  let m: PoolMessage;
  try {
    m = decodePool(frames);
  } catch {
    return;
  }
  if (m.op === PoolOp.Heartbeat) return;
  try {
    onMessage(m);
  } catch (e) {
    process.stderr.write(`tsrun pool: error handling message op ${m.op}: ${(e as Error).stack}\n`);
  }
}

export class HeadLink implements HeadConnection {
  private readonly queue: SendQueue;
  private lastHeard = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private lostError: Error | undefined;
  onMessage: (m: PoolMessage) => void = () => {};
  onLost: (e: Error) => void = () => {};
  /** Body of each heartbeat (node agents report memory through it). */
  heartbeatBody: () => unknown = () => 0;

  private constructor(
    private readonly sock: zmq.Dealer,
    readonly address: string,
  ) {
    this.queue = new SendQueue(sock);
  }

  /**
   * Connects and says hello; resolves with the head's Welcome body. Rejects with PoolConnectError when
   * the head refuses our key (wrong secret) or nothing answers within timeoutMs.
   */
  static async open(
    endpoint: string,
    keys: JobKeys,
    hello: HelloBody,
    /** Default PoolConfig.connectTimeoutMs. */
    timeoutMs?: number,
    /**
     * Head silence that counts as loss (default PoolConfig.headSilenceMs; the head heartbeats every
     * second); 0 = never (the caller learns of the head's death otherwise).
     */
    silenceMs?: number,
  ): Promise<{ link: HeadLink; welcome: Record<string, unknown> }> {
    const config = readPoolConfig();
    timeoutMs ??= config.connectTimeoutMs;
    silenceMs ??= config.headSilenceMs;
    const sock = new zmq.Dealer({
      ...SOCKET_DEFAULTS,
      curveServerKey: keys.server.publicKey,
      curvePublicKey: keys.client.publicKey,
      curveSecretKey: keys.client.secretKey,
    });
    const link = new HeadLink(sock, endpoint);
    const shown = endpoint.replace(/^tcp:\/\//, '');
    const welcome = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new PoolConnectError(
            `no pool head answered at ${shown} within ${timeoutMs} ms (is a cluster running there? ` +
              'start one with `tsrun cluster start --head`, or unset TSRUN_POOL_ADDRESS for an embedded pool)',
          ),
        );
      }, timeoutMs);
      void (async () => {
        try {
          let failures = 0;
          for await (const ev of sock.events) {
            // ZAP refusing our key gives error:auth; a wrong secret also means a wrong server key, so the
            // head cannot even read our hello and the handshake breaks (error:protocol / error:other).
            if (ev.type.startsWith('handshake:error') && ++failures >= 2) {
              clearTimeout(timer);
              reject(
                new PoolConnectError(
                  `the pool head at ${shown} refused our credentials: this process does not hold the cluster ` +
                    'secret (set TSRUN_POOL_SECRET, or run where the head wrote its secret file)',
                ),
              );
              return;
            }
          }
        } catch {
          // events end when the socket closes
        }
      })();
      link.onMessage = (m) => {
        if (m.op === PoolOp.Welcome) {
          clearTimeout(timer);
          resolve(m.body as Record<string, unknown>);
        } else if (m.op === PoolOp.Refused) {
          clearTimeout(timer);
          reject(new PoolConnectError(String((m.body as { message: string }).message)));
        }
      };
    });
    sock.connect(endpoint);
    void link.loop();
    link.send(PoolOp.Hello, hello);
    try {
      const w = await welcome;
      link.startHeartbeat(silenceMs);
      return { link, welcome: w };
    } catch (e) {
      link.close();
      throw e;
    }
  }

  private startHeartbeat(silenceMs: number): void {
    this.lastHeard = Date.now();
    let lastTick = Date.now();
    this.timer = setInterval(() => {
      const now = Date.now();
      // A long synchronous task blocks this process's loop: the head's messages then wait unread in the
      // socket, so silence measured across the stall says nothing about the head.
      if (now - lastTick > 3 * HEARTBEAT_MS) this.lastHeard = now;
      lastTick = now;
      if (silenceMs > 0 && now - this.lastHeard > silenceMs) {
        this.lose(`no message for ${silenceMs} ms (head process died, or its host is unreachable)`);
        return;
      }
      this.send(PoolOp.Heartbeat, this.heartbeatBody());
    }, HEARTBEAT_MS);
    this.timer.unref();
  }

  private lose(why: string): void {
    if (this.closed || this.lostError) return;
    this.lostError = new HeadLostError(this.address.replace(/^tcp:\/\//, ''), why);
    this.onLost(this.lostError);
  }

  get lost(): Error | undefined {
    return this.lostError;
  }

  private async loop(): Promise<void> {
    try {
      for await (const frames of this.sock) {
        this.lastHeard = Date.now();
        deliverFromHead(frames, this.onMessage);
      }
    } catch {
      // closed
    }
  }

  send(op: PoolOp, body: unknown, blobs?: Uint8Array[]): void {
    if (this.closed) return;
    this.queue.send(encodePool(op, body, blobs)).catch((e: Error) => {
      this.lose(`send failed: ${e.message}`);
    });
  }

  /** Sends and resolves once the message is handed to the socket (before close at shutdown). */
  sendNow(op: PoolOp, body: unknown): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.queue.send(encodePool(op, body)).catch(() => {});
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.sock.close();
  }
}
