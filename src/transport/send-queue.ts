import type * as zmq from 'zeromq';

/**
 * zeromq.js allows one pending send per socket; concurrent callers (several collectives, chunks of one
 * payload, heartbeats) are serialised here. A send that is immediately possible does not wait for the
 * queue tail to settle through extra ticks: the chain only grows while a send is actually blocked.
 */
export class SendQueue {
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;
  private failed: Error | undefined;

  constructor(private readonly socket: zmq.Writable & { closed: boolean }) {}

  send(frames: Array<Uint8Array | string>): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.pending === 0) {
      this.pending = 1;
      const p = this.socket.send(frames).then(
        () => {
          this.pending -= 1;
        },
        (e: Error) => {
          this.pending -= 1;
          throw e;
        },
      );
      this.tail = p.catch(() => {});
      return p;
    }
    this.pending += 1;
    const p = this.tail.then(() => this.socket.send(frames));
    const done = p.then(
      () => {
        this.pending -= 1;
      },
      (e: Error) => {
        this.pending -= 1;
        throw e;
      },
    );
    this.tail = done.catch(() => {});
    return done;
  }

  /** Refuses every later send with this error (used when the peer is known lost). */
  fail(e: Error): void {
    this.failed = e;
  }
}
