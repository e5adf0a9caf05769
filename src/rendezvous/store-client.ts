import * as zmq from 'zeromq';
import { RendezvousError } from '../errors.js';
import type { JobKeys } from '../transport/keys.js';
import { SendQueue } from '../transport/send-queue.js';
import { type SocketOptions, socketOptionsFromEnv } from '../transport/socket-options.js';
import { decodeMessage, MessageKind, WireError } from '../wire/index.js';
import { decodePayload, encodeRequest, StoreOp, type StoreRequest } from './store-protocol.js';

/** Client of the rendezvous store; requests are matched to replies by id, so many may be in flight. */
export class StoreClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly queue: SendQueue;
  private closed = false;

  private constructor(
    private readonly sock: zmq.Dealer,
    readonly where: string,
  ) {
    this.queue = new SendQueue(sock);
    void this.loop();
  }

  static connect(
    addr: string,
    port: number,
    keys: JobKeys,
    socket: SocketOptions = socketOptionsFromEnv(),
  ): StoreClient {
    const sock = new zmq.Dealer({
      ...socket,
      curveServerKey: keys.server.publicKey,
      curvePublicKey: keys.client.publicKey,
      curveSecretKey: keys.client.secretKey,
    });
    const host = addr.includes(':') ? `[${addr}]` : addr;
    sock.connect(`tcp://${host}:${port}`);
    return new StoreClient(sock, `${addr}:${port}`);
  }

  private async loop(): Promise<void> {
    try {
      for await (const frames of this.sock) {
        try {
          const { header, payload } = decodeMessage(frames);
          if (header.kind !== MessageKind.RendezvousReply) continue;
          const p = this.pending.get(header.seq);
          if (!p) continue;
          this.pending.delete(header.seq);
          p.resolve(decodePayload(header, payload));
        } catch (e) {
          if (!(e instanceof WireError)) throw e;
        }
      }
    } catch {
      // closed
    }
  }

  private request(op: StoreOp, body: StoreRequest, timeoutMs: number, what: () => string): Promise<unknown> {
    if (this.closed) return Promise.reject(new RendezvousError(`store client for ${this.where} is closed`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RendezvousError(what()));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.queue.send(encodeRequest(op, id, body) as Buffer[]).catch((e: Error) => {
        this.pending.delete(id);
        clearTimeout(timer);
        reject(new RendezvousError(`cannot reach the rendezvous store at ${this.where}: ${e.message}`));
      });
    });
  }

  set(key: string, value: unknown, timeoutMs: number): Promise<void> {
    return this.request(
      StoreOp.Set,
      { key, value },
      timeoutMs,
      () =>
        `rendezvous store at ${this.where} did not answer within ${timeoutMs} ms (is rank 0 running, and MASTER_ADDR/MASTER_PORT right?)`,
    ).then(() => undefined);
  }

  /** Sets the key unless it exists; resolves true if this call set it, false if it was already there. */
  claim(key: string, value: unknown, timeoutMs: number): Promise<boolean> {
    return this.request(
      StoreOp.Claim,
      { key, value },
      timeoutMs,
      () =>
        `rendezvous store at ${this.where} did not answer within ${timeoutMs} ms (is rank 0 running, and MASTER_ADDR/MASTER_PORT right?)`,
    ).then((v) => v === true);
  }

  /** Waits until the key exists (blocking get). */
  get(key: string, timeoutMs: number, onTimeout?: () => string): Promise<unknown> {
    return this.request(
      StoreOp.Get,
      { key },
      timeoutMs,
      onTimeout ?? (() => `rendezvous key ${key} did not appear within ${timeoutMs} ms at ${this.where}`),
    );
  }

  add(key: string, delta: number, timeoutMs: number): Promise<number> {
    return this.request(
      StoreOp.Add,
      { key, delta },
      timeoutMs,
      () => `store add ${key} timed out`,
    ) as Promise<number>;
  }

  check(keys: string[], timeoutMs: number): Promise<boolean[]> {
    return this.request(
      StoreOp.Check,
      { key: keys[0] ?? '', keys },
      timeoutMs,
      () => 'store check timed out',
    ) as Promise<boolean[]>;
  }

  /** The store host's monotonic clock in microseconds (see src/trace/recorder.ts, clock-sync.ts). */
  time(timeoutMs: number): Promise<number> {
    return this.request(
      StoreOp.Time,
      { key: '' },
      timeoutMs,
      () => 'store time timed out',
    ) as Promise<number>;
  }

  close(): void {
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new RendezvousError('store client closed'));
    this.pending.clear();
    this.sock.close();
  }
}
