import { cutMessage } from './frame-cut.js';

/**
 * Cuts a stream that node reads into one reused buffer (the socket's `onread` option) into messages. No
 * read allocates: on this VM a fresh 64 KiB costs more than sending it (first touch of new pages), and
 * node's default reads allocate one per read. Frames handed to onMessage are views valid only until it
 * returns; the receiver copies what it keeps (straight into its posted buffer, usually). A message split
 * across reads is assembled in the decoder's own buffer, reused and grown to the largest such message.
 */
export class TransientFrameDecoder {
  private asm = Buffer.alloc(0);
  private asmLen = 0;
  /** Bytes the message being assembled needs before it can be cut again. */
  private need = 4;

  constructor(private readonly onMessage: (frames: Uint8Array[]) => void) {}

  /** Feeds bytes read into the shared buffer; throws FrameStreamError on a stream that cannot be ours. */
  push(chunk: Buffer): void {
    let off = 0;
    while (this.asmLen > 0) {
      const take = Math.min(this.need - this.asmLen, chunk.length - off);
      this.reserve(this.need);
      chunk.copy(this.asm, this.asmLen, off, off + take);
      this.asmLen += take;
      off += take;
      if (this.asmLen < this.need) return;
      const cut = cutMessage(this.asm.subarray(0, this.asmLen), 0);
      if ('need' in cut) {
        this.need = cut.need;
        continue;
      }
      this.asmLen = 0;
      this.need = 4;
      this.onMessage(cut.frames);
    }
    for (;;) {
      const cut = cutMessage(chunk, off);
      if ('need' in cut) {
        const rest = chunk.length - off;
        if (rest > 0) {
          this.reserve(Math.max(cut.need, rest));
          chunk.copy(this.asm, 0, off);
          this.asmLen = rest;
          this.need = cut.need;
        }
        return;
      }
      off += cut.bytes;
      this.onMessage(cut.frames);
    }
  }

  /** Grows the assembly buffer to hold bytes, keeping what it holds. */
  private reserve(bytes: number): void {
    if (this.asm.length >= bytes) return;
    const grown = Buffer.alloc(Math.max(bytes, 2 * this.asm.length, 64 * 1024));
    this.asm.copy(grown, 0, 0, this.asmLen);
    this.asm = grown;
  }
}
