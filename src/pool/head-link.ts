/**
 * A client's control connection to the head: a CURVE DEALER (the head's ZAP handler admits only the
 * cluster's client key), or a Unix socket for a client on the head's host (transport/message-carrier.ts),
 * heartbeats both ways, and one callback per message. Drivers, workers, node
 * agents and `tsrun cluster status|stop` all talk to the head through this.
 */
import type { JobKeys } from '../transport/keys.js';
import { type MessageCarrier, openCarrier } from '../transport/message-carrier.js';
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
  private lastHeard = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private lostError: Error | undefined;
  /**
   * Messages after the Welcome, until the caller sets onMessage. A Unix socket delivers every message
   * of one read synchronously, so a worker's first Dispatch can arrive in the same read as its Welcome,
   * before open()'s caller has attached its handler.
   */
  private early: PoolMessage[] = [];
  private handler: (m: PoolMessage) => void = (m) => this.early.push(m);
  onLost: (e: Error) => void = () => {};
  /** Body of each heartbeat (node agents report memory through it). */
  heartbeatBody: () => unknown = () => 0;

  private constructor(
    private readonly carrier: MessageCarrier,
    readonly address: string,
  ) {
    carrier.onMessage = (frames) => {
      this.lastHeard = Date.now();
      deliverFromHead(frames, this.handler);
    };
  }

  get onMessage(): (m: PoolMessage) => void {
    return this.handler;
  }

  /** Sets the handler; messages held since the Welcome reach it first, in a microtask, in order. */
  set onMessage(fn: (m: PoolMessage) => void) {
    this.handler = fn;
    if (this.early.length === 0) return;
    const held = this.early;
    this.early = [];
    // A microtask runs before any further read, so nothing can overtake the held messages.
    queueMicrotask(() => {
      for (const m of held) fn(m);
    });
  }

  /**
   * Connects (tcp:// or ipc:// over CURVE, unix:// for a head on this host) and says hello; resolves with
   * the head's Welcome body. Rejects with PoolConnectError when the head refuses our key (wrong secret),
   * cannot be reached, or nothing answers within timeoutMs.
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
    const link = new HeadLink(openCarrier(endpoint, keys), endpoint);
    const shown = endpoint.replace(/^(tcp|unix):\/\//, '');
    const welcome = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new PoolConnectError(
            `no pool head answered at ${shown} within ${timeoutMs} ms (is a cluster running there? ` +
              'start one with `tsrun cluster start --head`, or unset TSRUN_POOL_ADDRESS for an embedded pool)',
          ),
        );
      }, timeoutMs);
      link.carrier.onBroken = (why, refused) => {
        clearTimeout(timer);
        reject(
          new PoolConnectError(
            refused
              ? `the pool head at ${shown} refused our credentials: this process does not hold the cluster ` +
                  'secret (set TSRUN_POOL_SECRET, or run where the head wrote its secret file)'
              : `cannot reach the pool head at ${shown}: ${why}`,
          ),
        );
      };
      let welcomed = false;
      link.handler = (m) => {
        if (welcomed) link.early.push(m);
        else if (m.op === PoolOp.Welcome) {
          welcomed = true;
          clearTimeout(timer);
          resolve(m.body as Record<string, unknown>);
        } else if (m.op === PoolOp.Refused) {
          clearTimeout(timer);
          reject(new PoolConnectError(String((m.body as { message: string }).message)));
        }
      };
    });
    link.send(PoolOp.Hello, hello);
    try {
      const w = await welcome;
      link.carrier.onBroken = (why) =>
        link.lose(`the connection to the head ended (${why}): its process died or stopped`);
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
    this.lostError = new HeadLostError(this.address.replace(/^(tcp|unix):\/\//, ''), why);
    this.onLost(this.lostError);
  }

  get lost(): Error | undefined {
    return this.lostError;
  }

  send(op: PoolOp, body: unknown, blobs?: Uint8Array[]): void {
    if (this.closed) return;
    this.carrier.send(encodePool(op, body, blobs)).catch((e: Error) => {
      this.lose(`send failed: ${e.message}`);
    });
  }

  /** Sends and resolves once the message is handed to the socket (before close at shutdown). */
  sendNow(op: PoolOp, body: unknown): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.carrier.send(encodePool(op, body)).catch(() => {});
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.carrier.close();
  }
}
