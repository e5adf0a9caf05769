/**
 * The peer mesh's connections to other ranks over framed node:net streams (frame-stream.ts) instead of
 * ZeroMQ: Unix sockets to ranks on this host, TCP to ranks on other hosts (unless the job encrypts: then
 * ZeroMQ CURVE carries it). On 2 vCPUs a ZeroMQ message wakes two I/O threads besides the two main
 * threads (ping-pong 0.14 ms against 0.034 ms over node:net), and each ZeroMQ receive is a fresh buffer,
 * which on this kind of VM costs more to touch than to copy into warm memory.
 *
 * Each rank listens on one socket (in the job's 0700 directory, or a TCP port) and connects one stream to
 * every peer of that kind. A stream opens with [data token, rank]; the listener answers ACK (or
 * TOKEN_REFUSED and closes) and from then on writes its messages for the connecting rank on it: every
 * rank reads only streams it opened, because only those can read into one reused buffer (node's
 * `onread`, which accepted sockets do not take), so no receive allocates. A stream that ends is the
 * peer's loss, at once; over TCP a host gone without a FIN is found by TCP keepalive (the kernel answers
 * its probes, so a rank busy in a long computation, its event loop blocked, is never taken for lost).
 */
import { rmSync } from 'node:fs';
import net from 'node:net';
import { FrameStream, type StreamTarget } from './frame-stream.js';
import { TOKEN_REFUSED, tokenMatches } from './message-carrier.js';
import { listenPrivate } from './unix-listen.js';

const ACK = Buffer.from('tsrun: link accepted', 'latin1');
/** How long an accepted connection may take to present its credentials. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Payloads up to this size are copied when sent (into the stream's warm buffers), so the sender may
 * reuse its buffer at once; larger ones are handed over (the group waits for the receiver's ack). Equal
 * to the size above which shared memory carries same-host payloads (shm-plane.ts SHM_MIN_BYTES - 1).
 */
export const LINK_COPY_MAX_BYTES = 256 * 1024;

export class LinkRefusedError extends Error {
  constructor(rank: number) {
    super(`rank ${rank} refused our credentials (do all ranks share the same TSRUN_JOB_SECRET?)`);
    this.name = 'LinkRefusedError';
  }
}

/** Sends to a peer whose stream has not arrived yet, in order, copied. */
interface Waiting {
  frames: Uint8Array[];
  resolve: () => void;
  reject: (e: Error) => void;
}

export class StreamLinks {
  /**
   * A message from a peer: its frames, [wire header, ...payload], valid only until this returns (they
   * view a reused read buffer): copy what you keep.
   */
  onFrames: (source: number, frames: Uint8Array[]) => void = () => {};
  /** A peer's stream (either direction) ended after it was established. */
  onLost: (rank: number, why: string) => void = () => {};
  /** Streams peers opened to us, accepted: we write to the peer on these. */
  private readonly out = new Map<number, FrameStream>();
  /** Streams we opened: we read from the peer on these. */
  private readonly inbound = new Map<number, FrameStream>();
  private readonly handshaking = new Set<FrameStream>();
  private readonly waiting = new Map<number, Waiting[]>();
  private readonly failed = new Map<number, Error>();
  private closed = false;

  private constructor(
    private readonly server: net.Server,
    /** Where peers connect: a Unix socket path, or tcp://host:port. */
    readonly endpoint: string,
    private readonly rank: number,
    private readonly token: Buffer,
    /** TCP keepalive idle time before the probes (0: Unix sockets, none). */
    private readonly keepAliveIdleMs: number,
  ) {}

  /** Links to ranks on this host, through a Unix socket at socketPath (0600). */
  static async listenUnix(
    socketPath: string,
    rank: number,
    size: number,
    token: string,
  ): Promise<StreamLinks> {
    const server = net.createServer();
    const links = new StreamLinks(server, socketPath, rank, Buffer.from(token, 'latin1'), 0);
    server.on('connection', (socket) => links.accept(new FrameStream(socket), size));
    await listenPrivate(server, socketPath);
    return links;
  }

  /**
   * Links to ranks on other hosts, through a TCP port on host (an address of this host the peers reach).
   * A peer host that stops answering is lost after about timeoutMs: keepalive probes start after
   * timeoutMs - 10 s of silence (at least 1 s) and libuv sends 10 of them 1 s apart.
   */
  static async listenTcp(
    host: string,
    rank: number,
    size: number,
    token: string,
    timeoutMs: number,
  ): Promise<StreamLinks> {
    const server = net.createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    const { port } = server.address() as net.AddressInfo;
    const shown = host.includes(':') ? `[${host}]` : host;
    const idle = Math.max(1000, timeoutMs - 10_000);
    const links = new StreamLinks(server, `tcp://${shown}:${port}`, rank, Buffer.from(token, 'latin1'), idle);
    server.on('connection', (socket) => {
      socket.setKeepAlive(true, idle);
      links.accept(new FrameStream(socket), size);
    });
    return links;
  }

  private accept(stream: FrameStream, size: number): void {
    this.handshaking.add(stream);
    let peer = -1;
    // A client that never completes its credentials (a port scanner, a stalled ZMTP greeting) is dropped.
    const timer = setTimeout(() => stream.close(), HANDSHAKE_TIMEOUT_MS);
    timer.unref();
    stream.onMessage = (frames) => {
      if (peer >= 0) return; // the connecting side writes nothing after its credentials
      clearTimeout(timer);
      const rank = frames.length === 2 ? Number(Buffer.from(frames[1]).toString('latin1')) : Number.NaN;
      const valid = Number.isInteger(rank) && rank >= 0 && rank < size && rank !== this.rank;
      if (!valid || !tokenMatches(frames[0], this.token) || this.out.has(rank)) {
        stream.send([TOKEN_REFUSED]);
        stream.close();
        return;
      }
      peer = rank;
      this.handshaking.delete(stream);
      this.out.set(peer, stream);
      stream.send([ACK]);
      this.flushWaiting(peer, stream);
    };
    stream.onClose = (why) => {
      this.handshaking.delete(stream);
      if (peer >= 0 && !this.closed) this.lose(peer, linkEnd(why));
    };
  }

  /** Opens the stream on which peer writes to us; resolves once the peer accepted our token. */
  connect(peer: number, endpoint: string): Promise<void> {
    const stream = FrameStream.connectTransient(targetOf(endpoint));
    if (this.keepAliveIdleMs > 0) stream.socket.setKeepAlive(true, this.keepAliveIdleMs);
    this.inbound.set(peer, stream);
    return new Promise<void>((resolve, reject) => {
      let open = false;
      stream.onMessage = (frames) => {
        if (open) {
          this.onFrames(peer, frames);
          return;
        }
        if (frames.length !== 1) return;
        if (ACK.equals(frames[0])) {
          open = true;
          resolve();
        } else if (TOKEN_REFUSED.equals(frames[0])) reject(new LinkRefusedError(peer));
      };
      stream.onClose = (why) => {
        if (this.closed) return;
        if (open) this.lose(peer, linkEnd(why));
        else reject(new Error(`could not open a link to rank ${peer} at ${endpoint}: ${why}`));
      };
      stream.send([this.token, Buffer.from(String(this.rank), 'latin1')]);
    });
  }

  has(peer: number): boolean {
    return this.inbound.has(peer);
  }

  /**
   * Sends one message to peer, resolving at once. A payload of at most LINK_COPY_MAX_BYTES is copied
   * before this returns; a larger one is handed over (the mesh's callers never change it after sending:
   * the group waits for the receiver's acknowledgement of large ones).
   */
  send(peer: number, frames: Uint8Array[]): Promise<void> {
    const failed = this.failed.get(peer);
    if (failed) return Promise.reject(failed);
    const s = this.out.get(peer);
    if (!s) return this.queue(peer, frames);
    const sent = payloadBytes(frames) <= LINK_COPY_MAX_BYTES ? s.send(frames) : s.sendOwned(frames);
    return sent ? Promise.resolve() : Promise.reject(new Error(`the link to rank ${peer} is closed`));
  }

  /** The peer has not opened its stream to us yet (it connects in parallel): hold a copy until it does. */
  private queue(peer: number, frames: Uint8Array[]): Promise<void> {
    const copy = frames.map((f) => Buffer.from(f));
    return new Promise<void>((resolve, reject) => {
      const list = this.waiting.get(peer) ?? [];
      list.push({ frames: copy, resolve, reject });
      this.waiting.set(peer, list);
    });
  }

  private flushWaiting(peer: number, stream: FrameStream): void {
    const list = this.waiting.get(peer);
    if (!list) return;
    this.waiting.delete(peer);
    for (const w of list) {
      if (stream.sendOwned(w.frames)) w.resolve();
      else w.reject(new Error(`the link to rank ${peer} is closed`));
    }
  }

  /** The first end of either stream of a peer decides; later ones say nothing new. */
  private lose(peer: number, why: string): void {
    if (this.failed.has(peer)) return;
    this.failed.set(peer, new Error(`the link to rank ${peer} ended: ${why}`));
    const list = this.waiting.get(peer);
    this.waiting.delete(peer);
    for (const w of list ?? []) w.reject(this.failed.get(peer) as Error);
    this.onLost(peer, why);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.close();
    for (const s of this.out.values()) s.close();
    for (const s of this.inbound.values()) s.close();
    for (const s of this.handshaking) s.close();
    const closing = new Error('the links are closed');
    for (const list of this.waiting.values()) for (const w of list) w.reject(closing);
    this.waiting.clear();
    if (!this.endpoint.startsWith('tcp://')) rmSync(this.endpoint, { force: true });
  }
}

/** A Unix socket path, or tcp://host:port (IPv6 hosts in brackets). */
function targetOf(endpoint: string): StreamTarget {
  if (!endpoint.startsWith('tcp://')) return { path: endpoint };
  const hostPort = endpoint.slice('tcp://'.length);
  const colon = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(hostPort.slice(colon + 1)) };
}

function payloadBytes(frames: readonly Uint8Array[]): number {
  let n = 0;
  for (let i = 1; i < frames.length; i++) n += frames[i].byteLength;
  return n;
}

function linkEnd(why: string): string {
  return why === 'closed' ? 'connection closed' : `connection failed: ${why}`;
}
