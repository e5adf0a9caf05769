/**
 * Multi-frame messages over a byte stream (a node:net Unix socket): what a ZeroMQ socket gives, without
 * ZeroMQ's I/O thread. On 2 vCPUs a message through zeromq.js wakes the sender's I/O thread and the
 * receiver's, and a ping-pong between two processes took 0.14 ms; the same over node:net took 0.034 ms,
 * because libuv writes from the calling thread and reads in the event loop's own poll.
 *
 * On the wire a message is [u32 frame count][u32 length of each frame][the frames' bytes], little
 * endian, with every frame and the message's end padded to 8 bytes: node gives each read a fresh
 * buffer, so frames then arrive 8-byte aligned and typed arrays view them without a copy. send() writes
 * a copy, so the caller may reuse its frames at once (as a ZeroMQ send lets it); sendOwned() takes frames
 * the caller hands over and writes large ones from them.
 */
import type { Socket } from 'node:net';

/** More frames than this in one message means the stream is not ours (or is corrupt). */
export const MAX_FRAMES_PER_MESSAGE = 65_536;

const ZEROS = Buffer.alloc(8);

export class FrameStreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameStreamError';
  }
}

/**
 * Handed-over messages up to this size are still copied into one write: a few small writes cost more
 * than the copy, while copying a large one means a fresh buffer (page faults on a VM).
 */
export const OWNED_COPY_MAX_BYTES = 16 * 1024;

const pad8 = (n: number) => (n + 7) & ~7;

/** Bytes of a message's table of n frames: count and lengths, padded to 8. */
const tableBytes = (n: number) => pad8(4 + 4 * n);

/** The message's table: frame count, lengths, padded to 8 bytes. */
function encodeTable(frames: readonly Uint8Array[], out: Buffer): void {
  out.writeUInt32LE(frames.length, 0);
  for (let i = 0; i < frames.length; i++) out.writeUInt32LE(frames[i].byteLength, 4 + 4 * i);
}

/** Encoded size of a message. */
export function encodedBytes(frames: readonly Uint8Array[]): number {
  let total = tableBytes(frames.length);
  for (let i = 0; i < frames.length; i++) total += pad8(frames[i].byteLength);
  return total;
}

/** Encodes one message as the single buffer written to the stream. */
export function encodeFrames(frames: readonly Uint8Array[]): Buffer {
  // Zero-filled: the padding goes on the wire and must not carry stale memory.
  const out = Buffer.alloc(encodedBytes(frames));
  encodeTable(frames, out);
  let at = tableBytes(frames.length);
  for (let i = 0; i < frames.length; i++) {
    out.set(frames[i], at);
    at += pad8(frames[i].byteLength);
  }
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
      if (this.pendingBytes + chunk.length < this.need) {
        this.pending.push(chunk);
        this.pendingBytes += chunk.length;
        return;
      }
      this.pending.push(chunk);
      buf = Buffer.concat(this.pending, this.pendingBytes + chunk.length);
      this.pending = [];
      this.pendingBytes = 0;
    }
    let off = 0;
    for (;;) {
      const avail = buf.length - off;
      if (avail < 4) {
        this.need = 4;
        break;
      }
      const n = buf.readUInt32LE(off);
      if (n === 0 || n > MAX_FRAMES_PER_MESSAGE) {
        throw new FrameStreamError(`a message announced ${n} frames (at most ${MAX_FRAMES_PER_MESSAGE})`);
      }
      const table = 4 + 4 * n;
      if (avail < table) {
        this.need = table;
        break;
      }
      const head = tableBytes(n);
      let total = head;
      for (let i = 0; i < n; i++) total += pad8(buf.readUInt32LE(off + 4 + 4 * i));
      if (avail < total) {
        this.need = total;
        break;
      }
      const frames: Uint8Array[] = new Array(n);
      let at = off + head;
      for (let i = 0; i < n; i++) {
        const len = buf.readUInt32LE(off + 4 + 4 * i);
        frames[i] = buf.subarray(at, at + len);
        at += pad8(len);
      }
      off += total;
      this.onMessage(frames);
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
  private readonly decoder = new FrameDecoder((frames) => {
    if (!this.ended) this.onMessage(frames);
  });

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      if (this.ended) return;
      try {
        this.decoder.push(chunk);
      } catch (e) {
        this.end((e as Error).message);
      }
    });
    socket.on('error', (e) => this.end(e.message));
    socket.on('close', () => this.end('closed'));
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Queues one message, copied; false once the stream has ended (the message is dropped). */
  send(frames: readonly Uint8Array[]): boolean {
    if (this.ended) return false;
    this.socket.write(encodeFrames(frames));
    return true;
  }

  /**
   * Queues one message whose frames the caller hands over (it will not change them again): small ones are
   * copied into one write, larger ones written from the frames themselves, with no wait either way. False
   * once the stream has ended (the message is dropped).
   */
  sendOwned(frames: readonly Uint8Array[]): boolean {
    if (this.ended) return false;
    if (encodedBytes(frames) <= OWNED_COPY_MAX_BYTES) this.socket.write(encodeFrames(frames));
    else this.writeParts(frames);
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
