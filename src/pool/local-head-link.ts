/**
 * The driver's link to a head in its own process (an embedded pool, `connect()` without an address).
 * Messages are handed over in memory instead of through two CURVE socket hops, which halves a call's
 * trip through the head. They stay encoded, and blob frames are copied as a socket would, so neither
 * side ever shares memory the other might change. Each side reads its messages in a microtask of its
 * own, in order, never inside the other's call stack.
 */
import { PoolConnectError } from './errors.js';
import type { Head } from './head.js';
import { deliverFromHead, HEARTBEAT_MS, type HeadConnection, type HelloBody } from './head-link.js';
import { encodePool, type PoolMessage, PoolOp } from './protocol.js';

type Frames = Uint8Array[];

/** Frames posted now are handled later, in post order, in one microtask per burst. */
class MicrotaskQueue {
  private items: Frames[] = [];
  private scheduled = false;

  constructor(private readonly handle: (frames: Frames) => void) {}

  post(frames: Frames): void {
    // Header and body frames are fresh per message; blobs may be the sender's own memory.
    // (Uint8Array's slice: Buffer's own slice is a view, not a copy.)
    const copy =
      frames.length > 2 ? frames.map((f, i) => (i < 2 ? f : Uint8Array.prototype.slice.call(f))) : frames;
    this.items.push(copy);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.drain());
  }

  private drain(): void {
    this.scheduled = false;
    const items = this.items;
    this.items = [];
    for (const frames of items) this.handle(frames);
  }
}

export class LocalHeadLink implements HeadConnection {
  onMessage: (m: PoolMessage) => void = () => {};
  onLost: (e: Error) => void = () => {};
  heartbeatBody: () => unknown = () => 0;
  readonly lost: Error | undefined = undefined;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private toHead: (frames: Frames) => void = () => {};

  private constructor(readonly address: string) {}

  /** Attaches to head as a client and says hello; resolves with the head's Welcome body. */
  static async open(
    head: Head,
    hello: HelloBody,
    timeoutMs = 10_000,
  ): Promise<{ link: LocalHeadLink; welcome: Record<string, unknown> }> {
    const link = new LocalHeadLink(head.ipc);
    const inbox = new MicrotaskQueue((frames) => link.receive(frames));
    const outbox = new MicrotaskQueue(head.attachLocal((frames) => inbox.post(frames)).post);
    link.toHead = (frames) => outbox.post(frames);
    const welcome = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new PoolConnectError(`the embedded pool head did not welcome its driver within ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
      link.onMessage = (m) => {
        if (m.op !== PoolOp.Welcome) return;
        clearTimeout(timer);
        resolve(m.body as Record<string, unknown>);
      };
    });
    link.send(PoolOp.Hello, hello);
    try {
      const w = await welcome;
      // The head drops clients it has not heard from, and a dashboard reads the driver's samples here.
      link.timer = setInterval(() => link.send(PoolOp.Heartbeat, link.heartbeatBody()), HEARTBEAT_MS);
      link.timer.unref();
      return { link, welcome: w };
    } catch (e) {
      link.close();
      throw e;
    }
  }

  private receive(frames: Frames): void {
    if (!this.closed) deliverFromHead(frames, this.onMessage);
  }

  send(op: PoolOp, body: unknown, blobs?: Uint8Array[]): void {
    if (!this.closed) this.toHead(encodePool(op, body, blobs));
  }

  sendNow(op: PoolOp, body: unknown): Promise<void> {
    this.send(op, body);
    return Promise.resolve();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
  }
}
