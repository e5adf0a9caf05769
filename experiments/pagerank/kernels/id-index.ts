/**
 * An open-addressing hash map from node id (an integer held in a double, exact below 2^53) to a dense
 * index 0..n-1 in first-seen order, in typed arrays only: graphs of tens of millions of nodes would
 * cost a JS object (or Map entry) per node otherwise, several times the memory and much slower.
 * Linear probing, power-of-two capacity, grown at 5/8 load.
 */

const EMPTY = -1;

/** 32-bit mix of an integer-valued double (low and high words), good enough for sequential ids. */
function hashId(id: number): number {
  const lo = id >>> 0;
  const hi = Math.floor(id / 4294967296) | 0;
  let h = Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  return (h ^ (h >>> 15)) >>> 0;
}

/** The rank that owns `id` in the distributed id mapping (a different mix than the table's slots). */
export function ownerOf(id: number, size: number): number {
  return (Math.imul(hashId(id) ^ 0x5bd1e995, 0xcc9e2d51) >>> 0) % size;
}

export class IdIndex {
  private keys: Float64Array;
  private slots: Int32Array;
  private mask: number;
  private idList: Float64Array;
  private n = 0;

  constructor(expected = 1024) {
    let cap = 16;
    while (cap * 5 < expected * 8) cap *= 2;
    this.keys = new Float64Array(cap);
    this.slots = new Int32Array(cap).fill(EMPTY);
    this.mask = cap - 1;
    this.idList = new Float64Array(Math.max(16, expected));
  }

  /** Number of distinct ids. */
  get size(): number {
    return this.n;
  }

  /** The distinct ids in index order (a view; valid until the next insert). */
  get ids(): Float64Array {
    return this.idList.subarray(0, this.n);
  }

  /** Index of `id`, adding it when new. */
  insert(id: number): number {
    let s = hashId(id) & this.mask;
    for (;;) {
      const v = this.slots[s];
      if (v === EMPTY) break;
      if (this.keys[s] === id) return v;
      s = (s + 1) & this.mask;
    }
    const idx = this.n++;
    this.keys[s] = id;
    this.slots[s] = idx;
    if (idx >= this.idList.length) {
      const grown = new Float64Array(this.idList.length * 2);
      grown.set(this.idList);
      this.idList = grown;
    }
    this.idList[idx] = id;
    if (this.n * 8 > this.slots.length * 5) this.grow();
    return idx;
  }

  /** Index of `id`, or -1 when absent. */
  get(id: number): number {
    let s = hashId(id) & this.mask;
    for (;;) {
      const v = this.slots[s];
      if (v === EMPTY) return -1;
      if (this.keys[s] === id) return v;
      s = (s + 1) & this.mask;
    }
  }

  /** Maps every id of `ids` to its index (inserting new ones) into `out` at `outAt`. */
  insertAll(ids: Float64Array, out: Int32Array, outAt = 0): void {
    for (let i = 0; i < ids.length; i++) out[outAt + i] = this.insert(ids[i]);
  }

  private grow(): void {
    const cap = this.slots.length * 2;
    const keys = new Float64Array(cap);
    const slots = new Int32Array(cap).fill(EMPTY);
    const mask = cap - 1;
    for (let i = 0; i < this.n; i++) {
      const id = this.idList[i];
      let s = hashId(id) & mask;
      while (slots[s] !== EMPTY) s = (s + 1) & mask;
      keys[s] = id;
      slots[s] = i;
    }
    this.keys = keys;
    this.slots = slots;
    this.mask = mask;
  }
}
