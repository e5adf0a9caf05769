import { rmSync } from 'node:fs';
import path from 'node:path';
import * as zmq from 'zeromq';
import { decodeMessage, encodeHeader, Flags, type Header, makeHeader, WireError } from '../wire/index.js';
import type { JobKeys } from './keys.js';
import { SendQueue } from './send-queue.js';
import { ShmPlane } from './shm-plane.js';
import { type SocketOptions, socketOptions } from './socket-options.js';
import { LINK_COPY_MAX_BYTES, StreamLinks } from './stream-links.js';
import { readTransportConfig, type TransportConfig } from './transport-config.js';
import { z85Encode as z85 } from './z85.js';
import { registerZapDomain, releaseZapDomain, ZAP_DATA_DOMAIN } from './zap.js';

/** Where a rank can be reached; published through the rendezvous store. */
export interface PeerEndpoint {
  rank: number;
  host: string;
  ipc?: string;
  /** This rank's Unix link socket (stream-links.ts), for peers on its host. */
  unix?: string;
  /** This rank's TCP link endpoint (stream-links.ts, tcp://host:port), for peers on other hosts. */
  stream?: string;
  tcp: string;
  pid: number;
}

/** How messages to one peer leave: a ZeroMQ DEALER's queue or a local link. */
interface PeerChannel {
  send(frames: Uint8Array[]): Promise<void>;
  /** Later sends reject with e (the peer is lost). */
  fail(e: Error): void;
}

export interface MeshOptions {
  rank: number;
  size: number;
  keys: JobKeys;
  /** CURVE-encrypt rank-to-rank data (TSRUN_ENCRYPT=1); otherwise PLAIN + ZAP token (authenticated, clear). */
  encrypt: boolean;
  /** Interface address to bind TCP on (the one that reaches the master). */
  bindAddress: string;
  host: string;
  /** Directory for ipc:// endpoints, or undefined to use TCP only. */
  ipcDir?: string;
  /** Every rank is on this host: bind no TCP port at all (fewer ports taken, nothing exposed). */
  ipcOnly?: boolean;
  /**
   * The job's private shared-memory directory: large payloads to ranks on this host go through it
   * (shm-plane.ts). Undefined: everything goes over ZeroMQ.
   */
  shmDir?: string;
  /** Chunk size, heartbeat timeout, Unix and TCP links (default: the environment's, read when the mesh is built). */
  transport?: Pick<TransportConfig, 'chunkBytes' | 'heartbeatTimeoutMs'> & {
    localSockets?: boolean;
    tcpSockets?: boolean;
  };
}

/** A complete logical message: header of its first chunk (payloadBytes = whole payload) and the bytes. */
export type MessageHandler = (source: number, header: Header, payload: Uint8Array) => void;
export type PeerLostHandler = (rank: number, reason: string) => void;
/**
 * Asked when the first chunk of a multi-chunk message arrives: a buffer of exactly header.totalBytes to
 * assemble it in (the receiver's final destination, saving a copy), or undefined for a fresh one.
 */
export type DestinationResolver = (source: number, header: Header) => Uint8Array | undefined;

interface Partial {
  header: Header;
  /** Where the chunks go: the receiver's own buffer once it is known. */
  buf?: Uint8Array;
  /**
   * Chunks that arrived before the receiver posted its buffer, kept as ZeroMQ delivered them: copying them
   * into a fresh buffer of the whole message would touch fresh memory (page faults: ~2.8 ms a MiB on a VM)
   * only to copy it again.
   */
  held: Uint8Array[];
  filled: number;
  next: number;
}

/**
 * The full mesh of one job: every rank binds one ROUTER (all inbound traffic, one receive loop) and opens
 * one DEALER to every peer (outbound). A DEALER per peer gives a send queue per peer and, through its
 * `disconnect` event, immediate notice of that peer's death on every rank — no rank depends on another to
 * learn of a loss. A ROUTER/DEALER pair measured the same round trip as a single bidirectional socket
 * here (~80-90 µs on ipc://), so the second socket costs no latency.
 */
export class PeerMesh {
  // Until the owner attaches its handlers (after the rendezvous), arrivals and losses are held back:
  // a faster peer may already be sending while this rank is still connecting.
  private onMessage: MessageHandler = (s, h, p) => void this.backlog.push([s, h, p]);
  private onPeerLost: PeerLostHandler = (r, why) => void this.lostBacklog.push([r, why]);
  private backlog: Array<[number, Header, Uint8Array]> = [];
  private lostBacklog: Array<[number, string]> = [];
  readonly local: PeerEndpoint;
  /** Frames dropped because they failed validation (foreign or corrupt senders). */
  rejectedFrames = 0;

  private readonly dealers = new Map<number, zmq.Dealer>();
  private readonly queues = new Map<number, PeerChannel>();
  private readonly partial = new Map<number, Partial>();
  private readonly lost = new Set<number>();
  private closing = false;
  private readonly shm: ShmPlane | undefined;

  private constructor(
    private readonly opts: MeshOptions,
    private readonly router: zmq.Router,
    local: PeerEndpoint,
    private readonly socket: SocketOptions,
    /** Payloads above this many bytes travel as consecutive chunks of it. */
    private readonly chunkBytes: number,
    /** Streams to and from the ranks on this host, when Unix links are on. */
    private readonly links: StreamLinks | undefined,
    /** Streams to and from ranks on other hosts, when TCP links are on (never with encryption). */
    private readonly netLinks: StreamLinks | undefined,
  ) {
    this.local = local;
    for (const l of [links, netLinks]) {
      if (!l) continue;
      l.onFrames = (source, frames) => this.handleFrames(source, frames, true);
      l.onLost = (rank, why) => this.peerLost(rank, why);
    }
    if (opts.shmDir) {
      this.shm = new ShmPlane(opts.shmDir, opts.rank, (peer, frames) => {
        const q = this.queues.get(peer);
        return q ? q.send(frames) : Promise.reject(new Error(`no connection to rank ${peer}`));
      });
    }
  }

  private resolveDest: DestinationResolver = () => undefined;

  /** Attaches the receivers and delivers whatever arrived before. */
  attach(onMessage: MessageHandler, onPeerLost: PeerLostHandler, resolveDest?: DestinationResolver): void {
    if (resolveDest) this.resolveDest = resolveDest;
    this.onMessage = onMessage;
    this.onPeerLost = onPeerLost;
    const msgs = this.backlog;
    const losses = this.lostBacklog;
    this.backlog = [];
    this.lostBacklog = [];
    for (const [s, h, p] of msgs) onMessage(s, h, p);
    for (const [r, why] of losses) onPeerLost(r, why);
  }

  static async listen(opts: MeshOptions): Promise<PeerMesh> {
    const { keys } = opts;
    const transport = opts.transport ?? readTransportConfig();
    const socket = socketOptions(transport);
    await registerZapDomain(ZAP_DATA_DOMAIN, (mechanism, creds) => {
      if (opts.encrypt) return mechanism === 'CURVE' && zmq85(creds[0]) === keys.client.publicKey;
      return (
        mechanism === 'PLAIN' && creds[0]?.toString() === 'tsrun' && creds[1]?.toString() === keys.dataToken
      );
    });
    const security = opts.encrypt
      ? { curveServer: true, curveSecretKey: keys.server.secretKey, curvePublicKey: keys.server.publicKey }
      : { plainServer: true };
    const router = new zmq.Router({
      ...socket,
      ...security,
      zapDomain: ZAP_DATA_DOMAIN,
      mandatory: false,
    });
    let ipc: string | undefined;
    if (opts.ipcDir) {
      ipc = `ipc://${path.join(opts.ipcDir, `r${opts.rank}-${process.pid}.sock`)}`;
      await router.bind(ipc);
    }
    let tcp = '';
    if (!opts.ipcOnly || !ipc) {
      const host = opts.bindAddress.includes(':') ? `[${opts.bindAddress}]` : opts.bindAddress;
      await router.bind(`tcp://${host}:*`);
      tcp = router.lastEndpoint ?? '';
    }
    let links: StreamLinks | undefined;
    if (opts.ipcDir && (transport.localSockets ?? true) && opts.size > 1) {
      links = await StreamLinks.listenUnix(
        path.join(opts.ipcDir, `r${opts.rank}-${process.pid}.link`),
        opts.rank,
        opts.size,
        keys.dataToken,
      );
    }
    // Encrypted jobs keep every cross-host byte on ZeroMQ CURVE.
    let netLinks: StreamLinks | undefined;
    if (tcp && !opts.encrypt && (transport.tcpSockets ?? true) && opts.size > 1) {
      netLinks = await StreamLinks.listenTcp(
        opts.bindAddress,
        opts.rank,
        opts.size,
        keys.dataToken,
        transport.heartbeatTimeoutMs,
      );
    }
    const local = {
      rank: opts.rank,
      host: opts.host,
      ipc,
      unix: links?.endpoint,
      stream: netLinks?.endpoint,
      tcp,
      pid: process.pid,
    };
    const mesh = new PeerMesh(opts, router, local, socket, transport.chunkBytes, links, netLinks);
    void mesh.receiveLoop();
    return mesh;
  }

  /**
   * Opens a DEALER to every peer and resolves once each completed its authenticated handshake.
   * Rejects naming the peers that could not be reached, or whose ZAP handler refused our credentials.
   */
  async connect(peers: PeerEndpoint[], timeoutMs: number): Promise<void> {
    const waits: Promise<void>[] = [];
    const pending = new Set<number>();
    for (const p of peers) {
      if (p.rank === this.opts.rank) continue;
      pending.add(p.rank);
      waits.push(this.connectPeer(p).then(() => void pending.delete(p.rank)));
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `could not connect to rank${pending.size > 1 ? 's' : ''} ${[...pending].join(', ')} within ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([Promise.all(waits), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private connectPeer(p: PeerEndpoint): Promise<void> {
    const sameHost = p.host === this.opts.host;
    const links = sameHost && p.unix ? this.links : !sameHost && p.stream ? this.netLinks : undefined;
    if (links) {
      let failed: Error | undefined;
      this.queues.set(p.rank, {
        send: (frames) => (failed ? Promise.reject(failed) : links.send(p.rank, frames)),
        fail: (e) => {
          failed = e;
        },
      });
      if (sameHost) this.shm?.addPeer(p.rank, p.pid);
      return links.connect(p.rank, (sameHost ? p.unix : p.stream) as string);
    }
    const { keys, encrypt } = this.opts;
    const security = encrypt
      ? {
          curveServerKey: keys.server.publicKey,
          curvePublicKey: keys.client.publicKey,
          curveSecretKey: keys.client.secretKey,
        }
      : { plainUsername: 'tsrun', plainPassword: keys.dataToken };
    const dealer = new zmq.Dealer({ ...this.socket, ...security, routingId: `r${this.opts.rank}` });
    this.dealers.set(p.rank, dealer);
    this.queues.set(p.rank, new SendQueue(dealer));
    if (sameHost) this.shm?.addPeer(p.rank, p.pid);
    const useIpc = (p.ipc !== undefined && sameHost && this.opts.ipcDir !== undefined) || !p.tcp;
    // The observer must exist before connect(), or a fast handshake's event is missed.
    const events = dealer.events;
    const done = new Promise<void>((resolve, reject) => {
      let connected = false;
      void (async () => {
        try {
          for await (const ev of events) {
            if (ev.type === 'handshake' && !connected) {
              connected = true;
              resolve();
            } else if (ev.type === 'handshake:error:auth') {
              reject(
                new Error(
                  `rank ${p.rank} refused our credentials (do all ranks share the same TSRUN_JOB_SECRET?)`,
                ),
              );
            } else if (ev.type === 'disconnect' && connected) {
              this.peerLost(p.rank, 'connection closed');
            }
          }
        } catch {
          // events iterator ends when the socket closes
        }
      })();
    });
    dealer.connect(useIpc ? (p.ipc as string) : p.tcp);
    return done;
  }

  private peerLost(rank: number, reason: string): void {
    if (this.closing || this.lost.has(rank)) return;
    this.lost.add(rank);
    const e = new Error(`rank ${rank} is lost: ${reason}`);
    this.queues.get(rank)?.fail(e);
    this.shm?.peerLost(rank, e);
    this.onPeerLost(rank, reason);
  }

  isLost(rank: number): boolean {
    return this.lost.has(rank);
  }

  /**
   * Whether send() copies a payload of `bytes` to `peer` before it resolves (the same-host shared-memory
   * path): then the caller may reuse its buffer at once and needs no acknowledgement from the receiver.
   */
  copiesOnSend(peer: number, bytes: number): boolean {
    if ((this.links?.has(peer) || this.netLinks?.has(peer)) && bytes <= LINK_COPY_MAX_BYTES) return true;
    return this.shm?.carries(peer, bytes) ?? false;
  }

  /**
   * Sends one logical message. Payloads above chunkBytes go as consecutive chunks; they are queued in
   * one synchronous loop, so the chunks of one message are contiguous on the wire and the receiver needs
   * only one partial message per source. The payload is not copied: do not modify it after this call.
   */
  send(peer: number, header: Header, payload?: Uint8Array): Promise<void> {
    const total = payload?.byteLength ?? 0;
    if (peer === this.opts.rank) {
      // Loopback without the network: deliver a private copy on a later tick, like a real receive.
      const copy = Buffer.allocUnsafeSlow(total);
      if (payload) copy.set(payload);
      const h = { ...header, source: this.opts.rank, payloadBytes: total, totalBytes: total };
      setImmediate(() => this.onMessage(this.opts.rank, h, copy));
      return Promise.resolve();
    }
    const q = this.queues.get(peer);
    if (!q) return Promise.reject(new Error(`no connection to rank ${peer}`));
    header.source = this.opts.rank;
    header.totalBytes = total;
    const shm = this.shm;
    if (shm?.isLocalPeer(peer)) {
      if (payload && shm.carries(peer, total)) return shm.send(peer, header, payload);
      // Behind a shared-memory payload still waiting for slots, a later message must not overtake it.
      if (shm.busy(peer)) {
        const h = { ...header };
        // copiesOnSend() promised a copy for small payloads to a linked peer: take it before waiting.
        const p =
          payload && this.links?.has(peer) && total <= LINK_COPY_MAX_BYTES ? Buffer.from(payload) : payload;
        return shm.ordered(peer, () => this.sendFrames(q, h, p));
      }
    }
    return this.sendFrames(q, header, payload);
  }

  private sendFrames(q: PeerChannel, header: Header, payload: Uint8Array | undefined): Promise<void> {
    const total = payload?.byteLength ?? 0;
    if (total <= this.chunkBytes) {
      header.chunk = 0;
      header.nchunks = 1;
      header.payloadBytes = total;
      const hb = encodeHeader(header);
      return q.send(payload && total > 0 ? [hb, payload] : [hb]);
    }
    const nchunks = Math.ceil(total / this.chunkBytes);
    let last: Promise<void> = Promise.resolve();
    const p = payload as Uint8Array;
    for (let c = 0; c < nchunks; c++) {
      const start = c * this.chunkBytes;
      const end = Math.min(total, start + this.chunkBytes);
      header.chunk = c;
      header.nchunks = nchunks;
      header.payloadBytes = end - start;
      last = q.send([encodeHeader(header), p.subarray(start, end)]);
    }
    return last;
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const frames of this.router) {
        const id = frames[0]?.toString() ?? '';
        const source = id.startsWith('r') ? Number(id.slice(1)) : Number.NaN;
        this.handleFrames(source, frames.slice(1));
      }
    } catch {
      // The router closes on shutdown.
    }
  }

  /**
   * One message from source (its routing id, or its local link's): [wire header, ...payload]. Transient
   * frames (a local link's reused read buffer) are copied before anything keeps them: into the buffer the
   * receiver posted when there is one, else into a new one.
   */
  private handleFrames(source: number, frames: Uint8Array[], transient = false): void {
    if (!Number.isInteger(source) || source < 0 || source >= this.opts.size) {
      this.rejectedFrames += 1;
      return;
    }
    let header: Header;
    let payload: Uint8Array[];
    try {
      ({ header, payload } = decodeMessage(frames));
    } catch (e) {
      if (e instanceof WireError) {
        this.rejectedFrames += 1;
        return;
      }
      throw e;
    }
    if (header.source !== source) {
      this.rejectedFrames += 1;
      return;
    }
    if (header.flags & (Flags.SharedMemory | Flags.SlotRelease)) {
      this.handleShm(source, header, payload);
      return;
    }
    if (header.nchunks === 1) {
      if (!transient) {
        this.onMessage(source, header, alignedPayload(payload, header.payloadBytes));
        return;
      }
      const dest = header.payloadBytes > 0 ? this.resolveDest(source, header) : undefined;
      const buf =
        dest && dest.byteLength === header.payloadBytes ? dest : Buffer.allocUnsafeSlow(header.payloadBytes);
      this.onMessage(source, header, copyFrames(payload, buf, 0));
      return;
    }
    let part = this.partial.get(source);
    if (header.chunk === 0) {
      part = { header, held: [], filled: 0, next: 0 };
      this.partial.set(source, part);
    }
    if (!part || header.chunk !== part.next || part.filled + header.payloadBytes > part.header.totalBytes) {
      this.rejectedFrames += 1;
      this.partial.delete(source);
      return;
    }
    if (!part.buf) {
      const dest = this.resolveDest(source, part.header);
      if (dest && dest.byteLength === part.header.totalBytes) {
        part.buf = dest;
        copyFrames(part.held, dest, 0);
        part.held = [];
      }
    }
    if (part.buf) copyFrames(payload, part.buf, part.filled);
    else part.held.push(...(transient ? payload.map((f) => Buffer.from(f)) : payload));
    for (const f of payload) part.filled += f.byteLength;
    part.next += 1;
    if (part.next === header.nchunks) {
      this.partial.delete(source);
      const h = part.header;
      h.payloadBytes = part.filled;
      // totalBytes was checked against the decode limit when chunk 0 was decoded.
      const buf = part.buf ?? copyFrames(part.held, Buffer.allocUnsafeSlow(part.filled), 0);
      this.onMessage(source, h, buf);
    }
  }

  private handleShm(source: number, header: Header, frames: Uint8Array[]): void {
    if (!this.shm?.isLocalPeer(source)) {
      this.rejectedFrames += 1;
      return;
    }
    let got: ReturnType<ShmPlane['handle']>;
    try {
      got = this.shm.handle(source, header, frames, (h) => this.resolveDest(source, h));
    } catch (e) {
      // The descriptor came over the authenticated connection, so this is a broken peer, not noise: a lost
      // payload would otherwise surface only as a timeout.
      this.rejectedFrames += 1;
      this.peerLost(source, `its shared-memory data could not be read (${(e as Error).message})`);
      return;
    }
    if (got !== 'consumed') this.onMessage(source, got.header, got.payload);
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.shm?.close();
    this.links?.close();
    this.netLinks?.close();
    for (const d of this.dealers.values()) d.close();
    this.router.close();
    releaseZapDomain(ZAP_DATA_DOMAIN);
    const ipc = this.local.ipc;
    if (ipc) rmSync(ipc.slice('ipc://'.length), { force: true });
  }

  /** Builds a header for this mesh (source filled in on send). */
  static header(fields: Parameters<typeof makeHeader>[0]): Header {
    return makeHeader(fields);
  }
}

/** Copies `frames` one after another into `dst` from byte `at`; returns dst. */
function copyFrames(frames: readonly Uint8Array[], dst: Uint8Array, at: number): Uint8Array {
  for (const f of frames) {
    dst.set(f, at);
    at += f.byteLength;
  }
  return dst;
}

/** Receive buffers must allow aligned typed-array views (Comm contract): copy when zeromq's is not. */
function alignedPayload(frames: Uint8Array[], bytes: number): Uint8Array {
  if (frames.length === 1 && frames[0].byteOffset % 8 === 0) return frames[0];
  const out = Buffer.allocUnsafeSlow(bytes);
  let off = 0;
  for (const f of frames) {
    out.set(f, off);
    off += f.byteLength;
  }
  return out;
}

function zmq85(b: Buffer | undefined): string {
  // ZAP passes CURVE client keys as 32 raw bytes; compare in Z85 like the configured key.
  return b && b.length === 32 ? z85(b) : '';
}
