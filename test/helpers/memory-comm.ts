/**
 * An in-memory Comm for N simulated ranks in one process, for unit-testing the collective algorithms.
 *
 * It is deliberately stricter than the real transport so misuse fails loudly:
 * - sends are "zero-copy": the sender's bytes are compared with a snapshot at delivery time, and a change
 *   (the sender reused the buffer before the peer had it) rejects the receive with ZeroCopyViolationError;
 * - delivery happens a random number of event-loop turns after both sides are ready, so ranks interleave
 *   differently from run to run (the order is seeded, so a failure reproduces);
 * - receive buffers sit at byte offset 8 of a larger ArrayBuffer, so code that ignores byteOffset breaks;
 * - a repeated (source, destination, step), a peer out of range, a message nobody received and a deadlock
 *   (every unfinished rank waiting, nothing in flight) are all reported.
 */
import type { Comm } from '../../collectives/comm.js';

export class ZeroCopyViolationError extends Error {
  override readonly name = 'ZeroCopyViolationError';
}

export class MemoryCommError extends Error {
  override readonly name = 'MemoryCommError';
}

interface Message {
  readonly original: Uint8Array;
  readonly snapshot: Uint8Array;
  /** With completeSends: resolves the sender's send once the message is delivered. */
  readonly delivered?: () => void;
}

interface Waiter {
  resolve(buf: Uint8Array): void;
  reject(err: Error): void;
}

export interface MemoryWorldOptions {
  /** Seed for the delivery delays. */
  seed?: number;
  /** Deliveries wait 1..maxDelayTurns setImmediate turns. */
  maxDelayTurns?: number;
  /**
   * Like GroupCore's Comm: a send resolves only once the peer received it (so `sendsCompleteOnReturn` is
   * true), and the Comm offers `recvInto` and `scratch` — the paths algorithms take over the real transport.
   */
  completeSends?: boolean;
}

const key = (src: number, dst: number, step: number) => `${src}->${dst}@${step}`;

export class MemoryWorld {
  readonly comms: Comm[];
  readonly errors: Error[] = [];
  private readonly messages = new Map<string, Message>();
  private readonly waiters = new Map<string, Waiter>();
  private readonly used = new Set<string>();
  private readonly received = new Set<string>();
  private inFlight = 0;
  private progress = 0;
  private random: number;
  private readonly maxDelayTurns: number;
  private readonly completeSends: boolean;

  constructor(
    readonly size: number,
    options: MemoryWorldOptions = {},
  ) {
    this.random = (options.seed ?? 1) >>> 0 || 1;
    this.maxDelayTurns = options.maxDelayTurns ?? 3;
    this.completeSends = options.completeSends ?? false;
    this.comms = Array.from({ length: size }, (_, rank) => this.makeComm(rank));
  }

  private nextRandom(): number {
    // xorshift32: deterministic per seed.
    let x = this.random;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.random = x >>> 0;
    return this.random;
  }

  private fail(err: Error): Error {
    this.errors.push(err);
    return err;
  }

  private checkPeer(rank: number, peer: number, what: string): void {
    if (!Number.isInteger(peer) || peer < 0 || peer >= this.size || peer === rank) {
      throw this.fail(
        new MemoryCommError(`rank ${rank} ${what} peer ${peer}: not another rank of 0..${this.size - 1}`),
      );
    }
  }

  private makeComm(rank: number): Comm {
    const recv = (peer: number, step: number): Promise<Uint8Array> => {
      this.checkPeer(rank, peer, 'receives from');
      const k = key(peer, rank, step);
      if (this.used.has(`recv ${k}`))
        return Promise.reject(this.fail(new MemoryCommError(`duplicate recv ${k}`)));
      this.used.add(`recv ${k}`);
      return new Promise<Uint8Array>((resolve, reject) => {
        this.waiters.set(k, { resolve, reject });
        this.progress++;
        this.match(k);
      });
    };
    const comm: Comm = {
      rank,
      size: this.size,
      send: async (peer, step, data) => {
        this.checkPeer(rank, peer, 'sends to');
        const k = key(rank, peer, step);
        if (this.used.has(`send ${k}`)) throw this.fail(new MemoryCommError(`duplicate send ${k}`));
        this.used.add(`send ${k}`);
        let delivered: (() => void) | undefined;
        const done = this.completeSends ? new Promise<void>((r) => (delivered = r)) : undefined;
        this.messages.set(k, { original: data, snapshot: data.slice(), delivered });
        this.progress++;
        this.match(k);
        await done;
      },
      recv,
    };
    if (!this.completeSends) return comm;
    return {
      ...comm,
      sendsCompleteOnReturn: true,
      recvInto: async (peer, step, dst) => {
        const buf = await recv(peer, step);
        if (buf.byteLength !== dst.byteLength)
          throw this.fail(
            new MemoryCommError(
              `recvInto ${key(peer, rank, step)}: ${buf.byteLength} bytes into ${dst.byteLength}`,
            ),
          );
        dst.set(buf);
      },
      scratch: (bytes) => new Uint8Array(new ArrayBuffer(bytes + 8), 8, bytes),
    };
  }

  private match(k: string): void {
    const message = this.messages.get(k);
    const waiter = this.waiters.get(k);
    if (message === undefined || waiter === undefined) return;
    this.messages.delete(k);
    this.waiters.delete(k);
    this.inFlight++;
    let turns = 1 + (this.nextRandom() % this.maxDelayTurns);
    const deliver = () => {
      if (--turns > 0) {
        setImmediate(deliver);
        return;
      }
      this.inFlight--;
      this.progress++;
      this.received.add(k);
      const { original, snapshot } = message;
      if (!sameBytes(original, snapshot)) {
        waiter.reject(
          this.fail(
            new ZeroCopyViolationError(`message ${k} was modified by its sender before it was delivered`),
          ),
        );
        return;
      }
      const backing = new ArrayBuffer(snapshot.byteLength + 16);
      const buf = new Uint8Array(backing, 8, snapshot.byteLength);
      buf.set(snapshot);
      new Uint8Array(backing, 0, 8).fill(0xee);
      waiter.resolve(buf);
      message.delivered?.();
    };
    setImmediate(deliver);
  }

  /** Throws if any message was never received or any error was recorded. */
  check(): void {
    if (this.errors.length > 0) throw this.errors[0];
    if (this.messages.size > 0) {
      throw new MemoryCommError(`messages sent but never received: ${[...this.messages.keys()].join(', ')}`);
    }
  }

  /** What the ranks are still waiting for, for deadlock reports. */
  describePending(): string {
    return `waiting receives: ${[...this.waiters.keys()].join(', ') || 'none'}; unreceived sends: ${
      [...this.messages.keys()].join(', ') || 'none'
    }`;
  }

  /**
   * Runs fn on every rank concurrently and resolves with the per-rank results once all finish and every
   * message was received. Rejects on the first rank error, a recorded violation, or a deadlock.
   */
  async run<R>(fn: (comm: Comm) => Promise<R>): Promise<R[]> {
    let unfinished = this.size;
    const all = Promise.all(
      this.comms.map(async (comm) => {
        try {
          return await fn(comm);
        } finally {
          unfinished--;
        }
      }),
    );
    let timer: NodeJS.Timeout | undefined;
    const deadlock = new Promise<never>((_, reject) => {
      let lastProgress = -1;
      const poll = () => {
        if (unfinished > 0 && this.inFlight === 0 && this.progress === lastProgress) {
          reject(
            new MemoryCommError(`deadlock: ${unfinished} rank(s) unfinished; ${this.describePending()}`),
          );
          return;
        }
        lastProgress = this.progress;
        timer = setTimeout(poll, 50);
      };
      timer = setTimeout(poll, 50);
    });
    try {
      const results = await Promise.race([all, deadlock]);
      this.check();
      return results;
    } finally {
      clearTimeout(timer);
      all.catch(() => {});
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Convenience: a fresh world of `size` ranks running fn on each. */
export function runRanksInMemory<R>(
  size: number,
  fn: (comm: Comm) => Promise<R>,
  options?: MemoryWorldOptions,
): Promise<R[]> {
  return new MemoryWorld(size, options).run(fn);
}
