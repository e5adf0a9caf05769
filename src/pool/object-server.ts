/**
 * The data plane of the pool: every driver and worker serves the objects it holds (puts, large results)
 * from an ObjectServer, and fetches others' with an ObjectFetcher. Bulk bytes use PLAIN + the data token
 * checked by ZAP, like the collectives' data plane: authenticated but not encrypted, because CURVE
 * costs ~3.4x bandwidth here and object transfers are the pool's bulk traffic; the control plane (head)
 * stays CURVE. Objects travel in CHUNK_BYTES chunks: pipelined 1 MiB sends are ~3x faster than one
 * large message on this machine.
 */
import path from 'node:path';
import * as zmq from 'zeromq';
import { bindAddressFor, privateIpcDir } from '../transport/host-identity.js';
import type { JobKeys } from '../transport/keys.js';
import { UNIX_SCHEME } from '../transport/message-carrier.js';
import { SendQueue } from '../transport/send-queue.js';
import { CHUNK_BYTES, SOCKET_DEFAULTS } from '../transport/socket-options.js';
import { registerZapDomain, releaseZapDomain } from '../transport/zap.js';
import {
  type DType,
  decodeMessage,
  encodeHeader,
  MessageKind,
  makeHeader,
  PayloadType,
} from '../wire/index.js';
import { ObjectLostError } from './errors.js';
import { readPoolConfig } from './pool-config.js';
import type { Location } from './protocol.js';
import { objectStoreBytes, SpillStore, spillDirFor } from './spill-store.js';

export const ZAP_POOL_DATA_DOMAIN = 'tsrun-pool-data';

const FetchOp = { Request: 1, Chunk: 2, Missing: 3 } as const;
const FETCH_LIMITS = { maxPayloadBytes: CHUNK_BYTES + 1024 * 1024, maxTotalBytes: 2 ** 46 };

/** An object as the wire codec encoded it; immutable once stored (sends are zero-copy). */
export interface StoredObject {
  payloadType: PayloadType;
  dtype: DType;
  count: number;
  frames: Uint8Array[];
}

export function storedBytes(o: StoredObject): number {
  let n = 0;
  for (let i = 0; i < o.frames.length; i++) n += o.frames[i].byteLength;
  return n;
}

/** Stores of one process spill to separate subdirectories of its spill directory. */
let nextStore = 1;

export class ObjectServer {
  readonly store: SpillStore;
  private readonly queue: SendQueue;
  private closed = false;

  private constructor(
    private readonly sock: zmq.Router,
    readonly location: Location,
    storeBytes: number,
  ) {
    this.store = new SpillStore(storeBytes, path.join(spillDirFor(process.pid), String(nextStore++)));
    this.queue = new SendQueue(sock);
    void this.loop();
  }

  static async start(opts: {
    keys: JobKeys;
    bindAddress: string;
    host: string;
    ipcDir?: string;
    workerId: number;
    /** Memory limit of this process's store (default: objectStoreBytes()); past it objects spill. */
    storeBytes?: number;
  }): Promise<ObjectServer> {
    const storeBytes = objectStoreBytes(opts.storeBytes);
    const { keys } = opts;
    await registerZapDomain(
      ZAP_POOL_DATA_DOMAIN,
      (mechanism, creds) =>
        mechanism === 'PLAIN' && creds[0]?.toString() === 'tsrun' && creds[1]?.toString() === keys.dataToken,
    );
    const sock = new zmq.Router({ ...SOCKET_DEFAULTS, plainServer: true, zapDomain: ZAP_POOL_DATA_DOMAIN });
    let ipc: string | undefined;
    if (opts.ipcDir) {
      ipc = `ipc://${path.join(opts.ipcDir, `obj-${process.pid}-${opts.workerId}.sock`)}`;
      await sock.bind(ipc);
    }
    const host = opts.bindAddress.includes(':') ? `[${opts.bindAddress}]` : opts.bindAddress;
    await sock.bind(`tcp://${host}:*`);
    return new ObjectServer(
      sock,
      {
        tcp: sock.lastEndpoint ?? '',
        ipc,
        host: opts.host,
        workerId: opts.workerId,
      },
      storeBytes,
    );
  }

  /**
   * The object server of a driver or worker of the head at endpoint. It binds on loopback for a
   * same-host (ipc:// or unix://) head, else on TSRUN_BIND_ADDR or the interface that reaches the head, so the
   * head's other workers can fetch from it. bindAddress is also where a worker's SPMD rank 0 listens.
   */
  static async forHead(
    endpoint: string,
    keys: JobKeys,
    host: string,
    storeBytes?: number,
  ): Promise<{ server: ObjectServer; bindAddress: string }> {
    let bindAddress = '127.0.0.1';
    if (!endpoint.startsWith('ipc://') && !endpoint.startsWith(UNIX_SCHEME)) {
      const headHost = new URL(endpoint.replace(/^tcp:/, 'http:')).hostname.replace(/^\[|\]$/g, '');
      bindAddress = await bindAddressFor(headHost === 'localhost' || !headHost ? '127.0.0.1' : headHost);
    }
    const ipcDir = privateIpcDir(keys.jobId);
    const server = await ObjectServer.start({ keys, bindAddress, host, ipcDir, workerId: 0, storeBytes });
    return { server, bindAddress };
  }

  private async loop(): Promise<void> {
    try {
      for await (const frames of this.sock) {
        const [rid, ...rest] = frames;
        try {
          const { header, payload } = decodeMessage(rest);
          if (header.kind !== MessageKind.PoolData || header.op !== FetchOp.Request) continue;
          this.serve(rid, header.seq, Buffer.from(payload[0] ?? []).toString());
        } catch {
          // A malformed request is dropped; the fetcher's own timeout reports it.
        }
      }
    } catch {
      // socket closed
    }
  }

  private serve(rid: Buffer, seq: number, id: string): void {
    const o = this.store.get(id);
    if (!o) {
      const h = makeHeader({ kind: MessageKind.PoolData, op: FetchOp.Missing, seq });
      this.queue.send([rid, encodeHeader(h)]).catch(() => {});
      return;
    }
    const total = storedBytes(o);
    const nchunks = Math.max(1, Math.ceil(total / CHUNK_BYTES));
    // The object's frames form one byte stream cut into chunks; a chunk may span frame boundaries.
    let fi = 0;
    let fo = 0;
    for (let c = 0; c < nchunks; c++) {
      const want = Math.min(CHUNK_BYTES, total - c * CHUNK_BYTES);
      const parts: Uint8Array[] = [];
      let got = 0;
      while (got < want) {
        const f = o.frames[fi];
        const take = Math.min(want - got, f.byteLength - fo);
        parts.push(f.subarray(fo, fo + take));
        got += take;
        fo += take;
        if (fo === f.byteLength) {
          fi += 1;
          fo = 0;
        }
      }
      const h = makeHeader({
        kind: MessageKind.PoolData,
        op: FetchOp.Chunk,
        seq,
        payloadType: o.payloadType === PayloadType.Typed && nchunks > 1 ? PayloadType.Bytes : o.payloadType,
        dtype: o.dtype,
        count: o.count,
        chunk: c,
        nchunks,
        totalBytes: total,
        payloadBytes: want,
        // The real payload type rides in root when chunking hides it (a chunk of a typed array is bytes).
        root: o.payloadType,
      });
      this.queue.send([rid, encodeHeader(h), ...parts]).catch(() => {});
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.store.clear();
    this.sock.close();
    releaseZapDomain(ZAP_POOL_DATA_DOMAIN);
  }
}

interface PendingFetch {
  id: string;
  buf?: Uint8Array;
  parts?: Uint8Array[];
  got: number;
  resolve: (o: StoredObject) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Fetches objects from other processes' ObjectServers; one DEALER per endpoint, requests matched by seq. */
export class ObjectFetcher {
  private readonly conns = new Map<string, { sock: zmq.Dealer; queue: SendQueue }>();
  private readonly pending = new Map<number, PendingFetch>();
  private nextSeq = 1;
  private closed = false;

  constructor(
    private readonly keys: JobKeys,
    private readonly host: string,
    private readonly timeoutMs = readPoolConfig().fetchTimeoutMs,
  ) {}

  private conn(loc: Location) {
    const ep = loc.ipc !== undefined && loc.host === this.host ? loc.ipc : loc.tcp;
    let c = this.conns.get(ep);
    if (c) return c;
    const sock = new zmq.Dealer({
      ...SOCKET_DEFAULTS,
      plainUsername: 'tsrun',
      plainPassword: this.keys.dataToken,
    });
    sock.connect(ep);
    c = { sock, queue: new SendQueue(sock) };
    this.conns.set(ep, c);
    void this.loop(sock, ep);
    return c;
  }

  fetch(id: string, loc: Location): Promise<StoredObject> {
    if (this.closed) return Promise.reject(new ObjectLostError(id, 'the fetcher is closed'));
    const { queue } = this.conn(loc);
    const seq = this.nextSeq++;
    if (this.nextSeq > 0xffff_fff0) this.nextSeq = 1;
    return new Promise<StoredObject>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new ObjectLostError(id, `no answer from ${loc.tcp} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(seq, { id, got: 0, resolve, reject, timer });
      const body = Buffer.from(id);
      const h = makeHeader({
        kind: MessageKind.PoolData,
        op: FetchOp.Request,
        seq,
        payloadType: PayloadType.Bytes,
        payloadBytes: body.byteLength,
      });
      queue.send([encodeHeader(h), body]).catch((e: Error) => {
        clearTimeout(timer);
        this.pending.delete(seq);
        reject(new ObjectLostError(id, `cannot reach ${loc.tcp}: ${e.message}`));
      });
    });
  }

  /** Rejects the fetches still waiting on objects whose holder is known dead. */
  failAll(ids: Set<string>, why: string): void {
    for (const [seq, p] of this.pending) {
      if (!ids.has(p.id)) continue;
      clearTimeout(p.timer);
      this.pending.delete(seq);
      p.reject(new ObjectLostError(p.id, why));
    }
  }

  private async loop(sock: zmq.Dealer, ep: string): Promise<void> {
    try {
      for await (const frames of sock) {
        let m: ReturnType<typeof decodeMessage>;
        try {
          m = decodeMessage(frames, FETCH_LIMITS);
        } catch {
          continue;
        }
        const { header, payload } = m;
        const p = this.pending.get(header.seq);
        if (!p || header.kind !== MessageKind.PoolData) continue;
        if (header.op === FetchOp.Missing) {
          clearTimeout(p.timer);
          this.pending.delete(header.seq);
          p.reject(new ObjectLostError(p.id, `${ep} no longer holds it (freed, or its worker restarted)`));
          continue;
        }
        const done = () => {
          clearTimeout(p.timer);
          this.pending.delete(header.seq);
          p.resolve({
            payloadType: header.root as PayloadType,
            dtype: header.dtype,
            count: header.count,
            frames: p.buf ? [p.buf] : (p.parts as Uint8Array[]),
          });
        };
        if (header.nchunks === 1) {
          p.parts = payload;
          done();
          continue;
        }
        if (!p.buf) p.buf = new Uint8Array(header.totalBytes);
        const off = header.chunk * CHUNK_BYTES;
        let o = off;
        for (let i = 0; i < payload.length; i++) {
          p.buf.set(payload[i], o);
          o += payload[i].byteLength;
        }
        p.got += 1;
        if (p.got === header.nchunks) done();
      }
    } catch {
      // socket closed
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new ObjectLostError(p.id, 'the pool is closing'));
    }
    this.pending.clear();
    for (const c of this.conns.values()) c.sock.close();
    this.conns.clear();
  }
}
