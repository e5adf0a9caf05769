/**
 * Multi-frame messages over a byte stream (a node:net Unix socket): what a ZeroMQ socket gives, without
 * ZeroMQ's I/O thread. On 2 vCPUs a message through zeromq.js wakes the sender's I/O thread and the
 * receiver's, and a ping-pong between two processes took 0.14 ms; the same over node:net took 0.034 ms,
 * because libuv writes from the calling thread and reads in the event loop's own poll.
 *
 * The layout is frame-cut.ts's. send() copies (into a warm pooled buffer), so the caller may reuse its
 * frames at once, as a ZeroMQ send lets it; sendOwned() takes frames the caller hands over and writes
 * large ones from them. A stream made by connectTransient() reads into one reused buffer and hands out
 * frames valid only during onMessage.
 */
import net, { type Socket } from 'node:net';
import { cutMessage, encodedBytes, encodeInto, encodeTable, pad8, tableBytes } from './frame-cut.js';
import { SendBufferPool } from './send-buffer-pool.js';
import { TransientFrameDecoder } from './transient-frame-decoder.js';

export { encodedBytes, FrameStreamError, MAX_FRAMES_PER_MESSAGE } from './frame-cut.js';

const ZEROS = Buffer.alloc(8);

/**
 * Handed-over messages up to this size are still copied into one write: a few small writes cost more
 * than the copy, while copying a large one means a fresh buffer (page faults on a VM).
 */
export const OWNED_COPY_MAX_BYTES = 16 * 1024;

/** Where a stream connects: a Unix socket, or a TCP host and port. */
export type StreamTarget = { path: string } | { host: string; port: number };

/** One read of a transient stream: a 64 KiB message and its table fit, so it usually arrives whole. */
const TRANSIENT_READ_BYTES = 512 * 1024;

/** Encodes one message as a single new buffer. */
export function encodeFrames(frames: readonly Uint8Array[]): Buffer {
  const out = Buffer.allocUnsafeSlow(encodedBytes(frames));
  encodeInto(frames, out);
  return out;
}

/**
 * Cuts a byte stream into messages. Frames handed out are views of the chunk they arrived in (each read
 * gets a fresh buffer from node, nothing else writes it); a message split across reads is joined once,
 * when its last byte has arrived.
 */
export class FrameDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes the first pending message needs before it can be cut. */
  private need = 4;

  constructor(private readonly onMessage: (frames: Uint8Array[]) => void) {}

  /** Feeds a chunk; throws FrameStreamError on a stream that cannot be ours. */
  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.pendingBytes > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.pendingBytes < this.need) return;
      buf = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
    }
    let off = 0;
    for (;;) {
      const cut = cutMessage(buf, off);
      if ('need' in cut) {
        this.need = cut.need;
        break;
      }
      off += cut.bytes;
      this.onMessage(cut.frames);
    }
    if (off < buf.length) {
      this.pending = [buf.subarray(off)];
      this.pendingBytes = buf.length - off;
    }
  }
}

/** A socket carrying framed messages: send() and onMessage, and one onClose when it ends for any reason. */
export class FrameStream {
  onMessage: (frames: Uint8Array[]) => void = () => {};
  /** Called once: why the stream ended ('closed' when the other side closed it). */
  onClose: (why: string) => void = () => {};
  private ended = false;
  private readonly pool = new SendBufferPool();
  private readonly deliver = (frames: Uint8Array[]) => {
    if (!this.ended) this.onMessage(frames);
  };
  private readonly decoder: { push(chunk: Buffer): void };

  /** A stream on socket; reads arrive as 'data' events unless `transient` (see connectTransient). */
  constructor(
    readonly socket: Socket,
    transient = false,
  ) {
    this.decoder = transient ? new TransientFrameDecoder(this.deliver) : new FrameDecoder(this.deliver);
    if (!transient) socket.on('data', (chunk: Buffer) => this.feed(chunk));
    socket.on('error', (e) => this.end(e.message));
    socket.on('close', () => this.end('closed'));
  }

  /**
   * Connects to a Unix socket or a TCP port; its reads land in one reused buffer: no read allocates, and
   * the frames given to onMessage are valid only until it returns.
   */
  static connectTransient(target: StreamTarget): FrameStream {
    const read = Buffer.allocUnsafeSlow(TRANSIENT_READ_BYTES);
    let stream: FrameStream | undefined;
    const socket = net.connect({
      ...target,
      ...('host' in target && { noDelay: true }),
      onread: {
        buffer: read,
        callback: (n: number) => {
          stream?.feed(read.subarray(0, n));
          return true;
        },
      },
    });
    stream = new FrameStream(socket, true);
    return stream;
  }

  get closed(): boolean {
    return this.ended;
  }

  private feed(chunk: Buffer): void {
    if (this.ended) return;
    try {
      this.decoder.push(chunk);
    } catch (e) {
      this.end((e as Error).message);
    }
  }

  /** Queues one message, copied; false once the stream has ended (the message is dropped). */
  send(frames: readonly Uint8Array[]): boolean {
    if (this.ended) return false;
    const bytes = encodedBytes(frames);
    const buf = this.pool.take(bytes);
    encodeInto(frames, buf);
    this.socket.write(buf.subarray(0, bytes), () => this.pool.give(buf));
    return true;
  }

  /**
   * Queues one message whose frames the caller hands over (it will not change them again): small ones are
   * copied into one write, larger ones written from the frames themselves, with no wait either way. False
   * once the stream has ended (the message is dropped).
   */
  sendOwned(frames: readonly Uint8Array[]): boolean {
    if (encodedBytes(frames) <= OWNED_COPY_MAX_BYTES) return this.send(frames);
    if (this.ended) return false;
    this.writeParts(frames);
    return true;
  }

  /** Writes the table, then each frame in place (one writev), padding included. */
  private writeParts(frames: readonly Uint8Array[]): void {
    const table = Buffer.alloc(tableBytes(frames.length));
    encodeTable(frames, table);
    const parts: Uint8Array[] = [table];
    for (const f of frames) {
      if (f.byteLength > 0) parts.push(f);
      const padding = pad8(f.byteLength) - f.byteLength;
      if (padding > 0) parts.push(ZEROS.subarray(0, padding));
    }
    const s = this.socket;
    s.cork();
    for (const part of parts) s.write(part);
    s.uncork();
  }

  /** Ends the stream after what was queued is written. */
  close(): void {
    if (this.ended) return;
    this.socket.end();
    this.end('closed by this side');
  }

  private end(why: string): void {
    if (this.ended) return;
    this.ended = true;
    if (why !== 'closed by this side') this.socket.destroy();
    this.onClose(why);
  }
}
