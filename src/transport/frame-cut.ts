/**
 * The framed-message layout shared by the stream's encoder and its two decoders: [u32 frame count][u32
 * length of each frame][the frames' bytes], little endian, every frame and the message's end padded to 8
 * bytes, so frames that arrive in an 8-byte-aligned buffer are aligned for typed-array views.
 */

/** More frames than this in one message means the stream is not ours (or is corrupt). */
export const MAX_FRAMES_PER_MESSAGE = 65_536;

export class FrameStreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameStreamError';
  }
}

export const pad8 = (n: number) => (n + 7) & ~7;

/** Bytes of a message's table of n frames: count and lengths, padded to 8. */
export const tableBytes = (n: number) => pad8(4 + 4 * n);

/** Encoded size of a message. */
export function encodedBytes(frames: readonly Uint8Array[]): number {
  let total = tableBytes(frames.length);
  for (let i = 0; i < frames.length; i++) total += pad8(frames[i].byteLength);
  return total;
}

/** Writes the message's table (frame count, lengths) at the start of out. */
export function encodeTable(frames: readonly Uint8Array[], out: Buffer): void {
  out.writeUInt32LE(frames.length, 0);
  for (let i = 0; i < frames.length; i++) out.writeUInt32LE(frames[i].byteLength, 4 + 4 * i);
}

/**
 * Encodes one message into out (at least encodedBytes long), padding zeroed: the padding goes on the wire
 * and must not carry what a reused buffer held before. Returns the encoded length.
 */
export function encodeInto(frames: readonly Uint8Array[], out: Buffer): number {
  encodeTable(frames, out);
  const head = tableBytes(frames.length);
  out.fill(0, 4 + 4 * frames.length, head);
  let at = head;
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    out.set(f, at);
    const end = pad8(f.byteLength);
    if (end > f.byteLength) out.fill(0, at + f.byteLength, at + end);
    at += end;
  }
  return at;
}

/**
 * Cuts the message that starts at buf[off]: its frames (views of buf) and its encoded length, or how many
 * bytes from off it needs before it can be cut. Throws FrameStreamError on a table that cannot be ours.
 */
export function cutMessage(
  buf: Buffer,
  off: number,
): { frames: Uint8Array[]; bytes: number } | { need: number } {
  const avail = buf.length - off;
  if (avail < 4) return { need: 4 };
  const n = buf.readUInt32LE(off);
  if (n === 0 || n > MAX_FRAMES_PER_MESSAGE) {
    throw new FrameStreamError(`a message announced ${n} frames (at most ${MAX_FRAMES_PER_MESSAGE})`);
  }
  const table = 4 + 4 * n;
  if (avail < table) return { need: table };
  const head = tableBytes(n);
  let total = head;
  for (let i = 0; i < n; i++) total += pad8(buf.readUInt32LE(off + 4 + 4 * i));
  if (avail < total) return { need: total };
  const frames: Uint8Array[] = new Array(n);
  let at = off + head;
  for (let i = 0; i < n; i++) {
    const len = buf.readUInt32LE(off + 4 + 4 * i);
    frames[i] = buf.subarray(at, at + len);
    at += pad8(len);
  }
  return { frames, bytes: total };
}
