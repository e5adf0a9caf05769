/**
 * Receive buffers that collective algorithms borrow for one call (Comm.scratch) and the process group takes
 * back once the call completed. On this kind of machine the cost of a large message is dominated by first
 * touching fresh memory (page faults, and on a VM the host backing the page), not by copying it: a warm,
 * reused buffer is read into several times faster. Bounded: beyond POOL_MAX_BYTES returned buffers are
 * dropped for the collector.
 */
const POOL_MAX_BYTES = 64 * 1024 * 1024;

const free = new Map<number, Uint8Array[]>();
let freeBytes = 0;

/** A buffer of exactly `bytes` (8-byte aligned, contents unspecified). */
export function takeScratch(bytes: number): Uint8Array {
  const b = free.get(bytes)?.pop();
  if (b) {
    freeBytes -= bytes;
    return b;
  }
  return Buffer.allocUnsafeSlow(bytes);
}

/** Returns buffers no transport or caller still reads or writes. */
export function giveBackScratch(bufs: readonly Uint8Array[]): void {
  for (const b of bufs) {
    if (freeBytes + b.byteLength > POOL_MAX_BYTES) continue;
    const list = free.get(b.byteLength) ?? [];
    list.push(b);
    free.set(b.byteLength, list);
    freeBytes += b.byteLength;
  }
}
