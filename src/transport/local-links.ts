/**
 * The peer mesh's connections to ranks on this host: framed Unix sockets (frame-stream.ts) instead of
 * ZeroMQ over ipc://. A small collective is a chain of message latencies, and on 2 vCPUs a ZeroMQ
 * message wakes two I/O threads besides the two main threads (ping-pong 0.14 ms against 0.034 ms over
 * node:net). Each rank listens on one socket in the job's 0700 directory and connects one stream to
 * every same-host peer, used one way like a DEALER: a rank's sends to a peer go on its own stream, what
 * it receives comes in on the peers' streams. A stream opens with [data token, rank]; the listener
 * answers ACK, or TOKEN_REFUSED and closes. A stream that ends is the peer's loss, at once.
 */
import { rmSync } from 'node:fs';
import net from 'node:net';
import { FrameStream } from './frame-stream.js';
import { TOKEN_REFUSED, tokenMatches } from './message-carrier.js';
import { listenPrivate } from './unix-listen.js';

const ACK = Buffer.from('tsrun: link accepted', 'latin1');

export class LocalLinkRefusedError extends Error {
  constructor(rank: number) {
    super(`rank ${rank} refused our credentials (do all ranks share the same TSRUN_JOB_SECRET?)`);
    this.name = 'LocalLinkRefusedError';
  }
}

export class LocalLinks {
  /** A message from a peer: its frames, [wire header, ...payload]. */
  onFrames: (source: number, frames: Uint8Array[]) => void = () => {};
  /** A peer's stream (either direction) ended after it was established. */
  onLost: (rank: number, why: string) => void = () => {};
  private readonly out = new Map<number, FrameStream>();
  private readonly inbound = new Set<FrameStream>();
  private closed = false;

  private constructor(
    private readonly server: net.Server,
    readonly socketPath: string,
    private readonly rank: number,
    private readonly token: Buffer,
  ) {}

  static async listen(socketPath: string, rank: number, size: number, token: string): Promise<LocalLinks> {
    const server = net.createServer();
    const links = new LocalLinks(server, socketPath, rank, Buffer.from(token, 'latin1'));
    server.on('connection', (socket) => links.accept(new FrameStream(socket), size));
    await listenPrivate(server, socketPath);
    return links;
  }

  private accept(stream: FrameStream, size: number): void {
    this.inbound.add(stream);
    let source = -1;
    stream.onMessage = (frames) => {
      if (source >= 0) {
        this.onFrames(source, frames);
        return;
      }
      const rank = frames.length === 2 ? Number(Buffer.from(frames[1]).toString('latin1')) : Number.NaN;
      if (!Number.isInteger(rank) || rank < 0 || rank >= size || !tokenMatches(frames[0], this.token)) {
        stream.send([TOKEN_REFUSED]);
        stream.close();
        return;
      }
      source = rank;
      stream.send([ACK]);
    };
    stream.onClose = (why) => {
      this.inbound.delete(stream);
      if (source >= 0 && !this.closed) this.onLost(source, linkEnd(why));
    };
  }

  /** Opens this rank's stream to peer; resolves once the peer accepted our token. */
  connect(peer: number, socketPath: string): Promise<void> {
    const stream = new FrameStream(net.connect(socketPath));
    this.out.set(peer, stream);
    return new Promise<void>((resolve, reject) => {
      let open = false;
      stream.onMessage = (frames) => {
        if (open || frames.length !== 1) return;
        if (ACK.equals(frames[0])) {
          open = true;
          resolve();
        } else if (TOKEN_REFUSED.equals(frames[0])) reject(new LocalLinkRefusedError(peer));
      };
      stream.onClose = (why) => {
        if (this.closed) return;
        if (open) this.onLost(peer, linkEnd(why));
        else reject(new Error(`could not open a local link to rank ${peer} at ${socketPath}: ${why}`));
      };
      stream.send([this.token, Buffer.from(String(this.rank), 'latin1')]);
    });
  }

  has(peer: number): boolean {
    return this.out.has(peer);
  }

  /**
   * Sends one message to peer, resolving at once: the frames are handed over (the mesh's contract: its
   * callers never change a payload after sending it; the group copies small ones and waits for the
   * receiver's acknowledgement of large ones).
   */
  send(peer: number, frames: Uint8Array[]): Promise<void> {
    const s = this.out.get(peer);
    if (!s) return Promise.reject(new Error(`no local link to rank ${peer}`));
    return s.sendOwned(frames)
      ? Promise.resolve()
      : Promise.reject(new Error(`the link to rank ${peer} is closed`));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.close();
    for (const s of this.out.values()) s.close();
    for (const s of this.inbound) s.close();
    rmSync(this.socketPath, { force: true });
  }
}

function linkEnd(why: string): string {
  return why === 'closed' ? 'connection closed' : `connection failed: ${why}`;
}
