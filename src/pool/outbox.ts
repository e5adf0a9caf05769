/**
 * The head's outgoing messages, batched: whatever handlers produce goes to per-client boxes (one per
 * op), and one flush per handled message sends each box as one message. Before sending, the flush runs
 * the head's own step (scheduling, freed-object notices), so tasks placed by a message leave with it.
 */
import type * as zmq from 'zeromq';
import { SendQueue } from '../transport/send-queue.js';
import { encodePool, PoolOp } from './protocol.js';
import type { Client, OutboxEntry } from './task-types.js';

export class Outbox {
  private readonly sendQueue: SendQueue;
  private flushScheduled = false;
  private closed = false;

  constructor(
    sock: zmq.Router,
    private readonly clients: () => Iterable<Client>,
    private readonly beforeFlush: () => void,
  ) {
    this.sendQueue = new SendQueue(sock);
  }

  /** c's box for op, made (and a flush scheduled) on first use. */
  box(c: Client, op: PoolOp): OutboxEntry {
    for (const o of c.out) if (o.op === op) return o;
    const o: OutboxEntry = { op, items: [], blobs: [] };
    c.out.push(o);
    this.scheduleFlush();
    return o;
  }

  enqueue(c: Client, op: PoolOp, item: unknown): void {
    this.box(c, op).items.push(item);
  }

  /** Sends at once, outside the batches (welcome, heartbeats). */
  send(c: Client, op: PoolOp, body: unknown, blobs?: Uint8Array[]): void {
    if (this.closed) return;
    this.sendNow(c, op, body, blobs).catch(() => {});
  }

  /** Sends at once, even while closing; resolves when the socket took the message. */
  sendNow(c: Client, op: PoolOp, body: unknown, blobs?: Uint8Array[]): Promise<void> {
    if (c.deliver) {
      c.deliver(encodePool(op, body, blobs));
      return Promise.resolve();
    }
    return this.sendQueue.send([c.rid, ...encodePool(op, body, blobs)]);
  }

  scheduleFlush(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    // A microtask: runs once the current message is handled, before the next one is read, so a
    // batch arriving in one message leaves in one message without an extra event-loop turn.
    queueMicrotask(() => this.flush());
  }

  /** Nothing is sent or scheduled after this. */
  close(): void {
    this.closed = true;
  }

  private flush(): void {
    this.flushScheduled = false;
    this.beforeFlush();
    for (const c of this.clients()) {
      if (c.out.length === 0) continue;
      const outs = c.out;
      c.out = [];
      for (const o of outs) {
        if (o.op === PoolOp.StatusReply) for (const item of o.items) this.send(c, o.op, item);
        else if (o.op === PoolOp.Free) this.send(c, o.op, o.items.flat());
        else this.send(c, o.op, o.items, o.blobs);
      }
    }
  }
}
