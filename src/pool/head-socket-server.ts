/**
 * The head's Unix socket for clients on its own host (workers of its node agents, drivers given a
 * `unix://` address): framed messages over node:net (transport/frame-stream.ts) instead of a CURVE
 * socket, which takes ZeroMQ's I/O threads out of every task's and actor call's round trip. A connection
 * must first send the job's data token (the client holds the secret); then it is a client of the head
 * like one in its own process (Head.attachLocal). The socket lives in the job's 0700 directory.
 */
import { unlinkSync } from 'node:fs';
import net from 'node:net';
import { FrameStream } from '../transport/frame-stream.js';
import { TOKEN_REFUSED, tokenMatches, UNIX_SCHEME } from '../transport/message-carrier.js';
import { listenPrivate } from '../transport/unix-listen.js';

/** A client attached to the head: post takes its messages there; detach says its connection ended. */
export interface AttachedClient {
  post(frames: Uint8Array[]): void;
  detach(why: string): void;
}

export class HeadSocketServer {
  private readonly streams = new Set<FrameStream>();

  private constructor(
    private readonly server: net.Server,
    readonly socketPath: string,
  ) {}

  /** Connections open now. */
  get connections(): number {
    return this.streams.size;
  }

  /** The endpoint clients connect to. */
  get endpoint(): string {
    return `${UNIX_SCHEME}${this.socketPath}`;
  }

  static async listen(
    socketPath: string,
    token: string,
    attach: (deliver: (frames: Uint8Array[]) => void) => AttachedClient,
  ): Promise<HeadSocketServer> {
    const expected = Buffer.from(token, 'latin1');
    const server = net.createServer();
    const self = new HeadSocketServer(server, socketPath);
    server.on('connection', (socket) => {
      const stream = new FrameStream(socket);
      self.streams.add(stream);
      let client: AttachedClient | undefined;
      stream.onMessage = (frames) => {
        if (client) {
          client.post(frames);
          return;
        }
        if (frames.length !== 1 || !tokenMatches(frames[0], expected)) {
          stream.send([TOKEN_REFUSED]);
          stream.close();
          return;
        }
        client = attach((out) => stream.send(out));
      };
      stream.onClose = (why) => {
        self.streams.delete(stream);
        client?.detach(why === 'closed' ? 'closed its connection' : why);
      };
    });
    await listenPrivate(server, socketPath);
    return self;
  }

  /** Stops accepting, and ends every connection after what was queued on it is written. */
  close(): void {
    this.server.close();
    for (const s of this.streams) s.close();
    this.streams.clear();
    try {
      unlinkSync(this.socketPath);
    } catch {}
  }
}
