import type * as zmq from 'zeromq';
import { RendezvousError } from '../errors.js';
import { hostClockUs } from '../trace/recorder.js';
import { type CurveRouter, openCurveRouter } from '../transport/curve-router.js';
import type { JobKeys } from '../transport/keys.js';
import { type SocketOptions, socketOptionsFromEnv } from '../transport/socket-options.js';
import { ZAP_CONTROL_DOMAIN } from '../transport/zap.js';
import { decodeMessage, MessageKind, WireError } from '../wire/index.js';
import { decodePayload, encodeReply, StoreOp, type StoreRequest } from './store-protocol.js';

/**
 * The job's key-value store, served by rank 0 at MASTER_ADDR:MASTER_PORT (torch's TCPStore, over
 * ZeroMQ). Always CURVE-encrypted, and the ZAP handler admits only clients holding the job's client key,
 * so a foreign process can neither read endpoints nor register itself.
 */
export class StoreServer {
  private readonly data = new Map<string, unknown>();
  private readonly waiters = new Map<string, Array<() => void>>();
  private closed = false;

  private readonly sock: zmq.Router;

  private constructor(private readonly router: CurveRouter) {
    this.sock = router.sock;
  }

  static async serve(
    bindAddr: string,
    port: number,
    keys: JobKeys,
    socket: SocketOptions = socketOptionsFromEnv(),
  ): Promise<StoreServer> {
    const host = bindAddr.includes(':') ? `[${bindAddr}]` : bindAddr;
    let router: CurveRouter;
    try {
      router = await openCurveRouter(keys, ZAP_CONTROL_DOMAIN, socket, (sock) =>
        sock.bind(`tcp://${host}:${port}`),
      );
    } catch (e) {
      const code = (e as { code?: string }).code ?? '';
      const why =
        code === 'EADDRINUSE'
          ? 'the port is already in use (another job or a stale rank 0?); pick another MASTER_PORT'
          : code === 'EADDRNOTAVAIL'
            ? "that address is not an address of this host; MASTER_ADDR must be rank 0's address"
            : (e as Error).message;
      throw new RendezvousError(`rank 0 cannot serve the rendezvous store on ${bindAddr}:${port}: ${why}`);
    }
    const server = new StoreServer(router);
    void server.loop();
    return server;
  }

  private async loop(): Promise<void> {
    try {
      for await (const frames of this.sock) {
        const [rid, ...rest] = frames;
        let header: ReturnType<typeof decodeMessage>['header'];
        let body: StoreRequest;
        try {
          const m = decodeMessage(rest);
          header = m.header;
          if (header.kind !== MessageKind.RendezvousRequest) continue;
          body = decodePayload(header, m.payload) as StoreRequest;
          if (typeof body !== 'object' || body === null || typeof body.key !== 'string') continue;
        } catch (e) {
          if (e instanceof WireError) continue;
          throw e;
        }
        this.handle(rid, header.op, header.seq, body);
      }
    } catch {
      // socket closed
    }
  }

  private reply(rid: Buffer, id: number, op: number, value: unknown): void {
    if (this.closed) return;
    this.sock.send([rid, ...encodeReply(id, value, op)]).catch(() => {});
  }

  private handle(rid: Buffer, op: number, id: number, body: StoreRequest): void {
    switch (op) {
      case StoreOp.Set:
        this.data.set(body.key, body.value);
        this.wake(body.key);
        this.reply(rid, id, op, true);
        return;
      case StoreOp.Claim: {
        const free = !this.data.has(body.key);
        if (free) {
          this.data.set(body.key, body.value);
          this.wake(body.key);
        }
        this.reply(rid, id, op, free);
        return;
      }
      case StoreOp.Get:
        if (this.data.has(body.key)) {
          this.reply(rid, id, op, this.data.get(body.key));
          return;
        }
        this.park(body.key, () => this.reply(rid, id, op, this.data.get(body.key)));
        return;
      case StoreOp.Add: {
        const cur = Number(this.data.get(body.key) ?? 0) + Number(body.delta ?? 0);
        this.data.set(body.key, cur);
        this.wake(body.key);
        this.reply(rid, id, op, cur);
        return;
      }
      case StoreOp.Check:
        this.reply(
          rid,
          id,
          op,
          (body.keys ?? [body.key]).map((k) => this.data.has(k)),
        );
        return;
      case StoreOp.Ping:
        this.reply(rid, id, op, 'pong');
        return;
      case StoreOp.Time:
        // The master host's monotonic clock, the one the timeline's events are stamped with.
        this.reply(rid, id, op, hostClockUs());
        return;
    }
  }

  private park(key: string, fn: () => void): void {
    const list = this.waiters.get(key) ?? [];
    list.push(fn);
    this.waiters.set(key, list);
  }

  private wake(key: string): void {
    const list = this.waiters.get(key);
    if (!list) return;
    this.waiters.delete(key);
    for (const fn of list) fn();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.router.close();
  }
}
