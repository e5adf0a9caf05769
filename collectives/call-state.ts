import type { Fingerprint } from './fingerprint.js';

/**
 * Book-keeping of one collective call on one rank: which peers it is waiting on (named by timeout
 * errors), how many large sends still await the receiver's acknowledgement, and the failure that ends it.
 */
export class CallState {
  readonly waitingOn = new Map<number, number>();
  private acksOutstanding = 0;
  private acksDone: Array<() => void> = [];
  private failWith: ((e: Error) => void) | undefined;
  readonly failed: Promise<never>;
  error: Error | undefined;
  /** Payload bytes this rank sent and the algorithm chosen, for the flight recorder and the timeline. */
  bytesSent = 0;
  algorithm: string | undefined;
  /** Scratch buffers this call borrowed (Comm.scratch); given back when it completes cleanly. */
  readonly scratch: Uint8Array[] = [];

  constructor(
    readonly seq: number,
    readonly fp: Fingerprint,
    readonly description: string,
  ) {
    this.failed = new Promise<never>((_, reject) => {
      this.failWith = reject;
    });
    // The race in ProcessGroup observes it; avoid unhandled-rejection noise when the call already finished.
    this.failed.catch(() => {});
  }

  fail(e: Error): void {
    if (this.error) return;
    this.error = e;
    this.failWith?.(e);
  }

  startWait(peer: number): void {
    this.waitingOn.set(peer, (this.waitingOn.get(peer) ?? 0) + 1);
  }

  endWait(peer: number): void {
    const n = (this.waitingOn.get(peer) ?? 1) - 1;
    if (n <= 0) this.waitingOn.delete(peer);
    else this.waitingOn.set(peer, n);
  }

  expectAck(peer: number): void {
    this.acksOutstanding += 1;
    this.startWait(peer);
  }

  ackArrived(peer: number): void {
    this.acksOutstanding -= 1;
    this.endWait(peer);
    if (this.acksOutstanding === 0) {
      const done = this.acksDone;
      this.acksDone = [];
      for (const d of done) d();
    }
  }

  /** Resolves once every large payload this call sent was received, so the caller may reuse its buffers. */
  allAcked(): Promise<void> {
    if (this.acksOutstanding === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.acksDone.push(resolve);
    });
  }
}
