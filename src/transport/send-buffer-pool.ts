/**
 * Warm buffers for encoded messages a stream writes: each is handed back when the kernel has taken its
 * bytes (the write's callback). On this VM first touch of fresh memory costs ~2.8 ms per MiB, so a
 * 64 KiB message copied into a new buffer costs several times its trip through a Unix socket.
 */

/** Buffers above this are not kept (rare messages; the pool stays small). */
const POOLED_MAX_BYTES = 1 << 20;
/** Free buffers kept per stream. */
const POOLED_MAX_COUNT = 8;
const SMALLEST = 4096;

export class SendBufferPool {
  private readonly free: Buffer[] = [];

  /** A buffer of at least bytes: a free one, else a new one of the next power of two. */
  take(bytes: number): Buffer {
    for (let i = this.free.length - 1; i >= 0; i--) {
      if (this.free[i].length >= bytes) return this.free.splice(i, 1)[0];
    }
    let size = SMALLEST;
    while (size < bytes) size *= 2;
    return Buffer.allocUnsafeSlow(size);
  }

  /** Hands a buffer back once nothing reads it any more. */
  give(buf: Buffer): void {
    if (buf.length > POOLED_MAX_BYTES) return;
    if (this.free.length >= POOLED_MAX_COUNT) this.free.shift();
    this.free.push(buf);
  }

  /** Free buffers held (for tests). */
  get size(): number {
    return this.free.length;
  }
}
