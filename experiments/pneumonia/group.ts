/**
 * The collectives the training loop uses (a slice of docs/ARCHITECTURE.md's process group), and a one-rank group
 * for single-process runs. Any object with these methods works, e.g. `await init()` from 'tsrun'.
 */
export interface TrainGroup {
  readonly rank: number;
  readonly size: number;
  allReduce<T extends Float32Array | Float64Array>(x: T, op?: 'sum' | 'avg'): Promise<T>;
  broadcast<T extends Float32Array>(x: T, root?: number): Promise<T>;
  allGather(x: Uint32Array): Promise<Uint32Array[]>;
}

export const soloGroup: TrainGroup = {
  rank: 0,
  size: 1,
  allReduce: async (x) => x,
  broadcast: async (x) => x,
  allGather: async (x) => [x.slice()],
};

/** FNV-1a over the bytes of `x`: equal for bitwise-equal arrays (used to prove ranks agree). */
export function checksum(x: Float32Array): number {
  const b = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h >>> 0;
}
