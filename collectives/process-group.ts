import { deserialize, serialize } from 'node:v8';
import { type Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import { CollectiveMismatchError } from '../src/errors.js';
import {
  CollectiveOp,
  DType,
  dtypeOf,
  MessageKind,
  makeHeader,
  PayloadType,
  RedOp,
  redOpFromName,
  typedArrayFor,
} from '../src/wire/index.js';
import type { ReduceOp, TypedArray } from '../src/wire/vocabulary.js';
import * as algo from './algorithms/select.js';
import type { TypedArrayConstructor } from './algorithms/typed-views.js';
import type { Comm } from './comm.js';
import type { Fingerprint } from './fingerprint.js';
import { checkGatherOut, checkReduceScatterOut } from './gather-out.js';
import { type CollectiveOptions, GroupCore } from './group-core.js';
import {
  allReduceLocCall,
  allToAllObjectCall,
  type LocOp,
  type LocResult,
  scanCall,
  scatterObjectCall,
} from './prefix-loc-object-calls.js';

export type { CollectiveOptions };

export interface AllGatherOptions<T extends TypedArray> extends CollectiveOptions {
  /** Output buffer for allGather (length = the sum of all ranks' lengths, x's dtype). */
  out?: T;
}

export interface ReduceScatterOptions<T extends TypedArray> extends CollectiveOptions {
  /**
   * Where this rank's block goes (x's dtype, the block's length): saves allocating the result. On this kind
   * of VM, first writing fresh memory costs more than the collective itself (64 MiB on 2 ranks: 140-150 ms
   * into a new result, 13-15 ms into a reused one).
   */
  out?: T;
}

const INTEGER_ONLY: ReadonlySet<ReduceOp> = new Set(['band', 'bor', 'bxor']);

function fp(
  op: number,
  x?: TypedArray,
  redop: number = RedOp.None,
  root = 0,
  count = x?.length ?? 0,
): Fingerprint {
  return { op, dtype: x ? dtypeOf(x) : DType.None, redop, count, root };
}

/**
 * A group of ranks that run collectives together (the world from `init()`, or a sub-group from
 * `split`). Every rank of the group must make the same calls in the same order; each call checks that
 * and fails with CollectiveMismatchError otherwise, and nothing waits longer than its timeout.
 */
export class ProcessGroup {
  private splits = 0;
  private readonly destroyHooks: Array<() => void> = [];

  /** @internal */
  constructor(private readonly core: GroupCore) {}

  /** This rank's index in the group. */
  get rank(): number {
    return this.core.rank;
  }
  get size(): number {
    return this.core.size;
  }
  /** Rank among the processes of this host (world values; sub-groups keep the process's). */
  get localRank(): number {
    return this.core.world.localRank;
  }
  get localSize(): number {
    return this.core.world.localSize;
  }
  /** World rank of each group member. */
  get ranks(): readonly number[] {
    return this.core.members;
  }
  /** Default timeout of every call of this group, in ms (per-call `{ timeoutMs }` overrides it). */
  get timeoutMs(): number {
    return this.core.timeoutMs;
  }
  set timeoutMs(ms: number) {
    this.core.timeoutMs = ms;
  }

  private checkRoot(root: number, what: string): void {
    if (!Number.isInteger(root) || root < 0 || root >= this.size) {
      throw new RangeError(`${what}: root ${root} is not a rank of this group (0..${this.size - 1})`);
    }
  }

  private checkPeer(peer: number, what: string): void {
    if (!Number.isInteger(peer) || peer < 0 || peer >= this.size) {
      throw new RangeError(`${what}: rank ${peer} is not a rank of this group (0..${this.size - 1})`);
    }
  }

  /** Reduces x across all ranks in place and returns it. */
  async allReduce<T extends TypedArray>(x: T, op: ReduceOp = 'sum', opts?: CollectiveOptions): Promise<T> {
    const d = dtypeOf(x);
    if (INTEGER_ONLY.has(op) && (d === DType.Float32 || d === DType.Float64)) {
      throw new TypeError(`allReduce: op '${op}' needs an integer dtype, got ${x.constructor.name}`);
    }
    return this.core.run(fp(CollectiveOp.AllReduce, x, redOpFromName(op)), opts, async (comm, phase) => {
      // The algorithms finish 'avg' themselves (one division, on the reduced values).
      await algo.allReduce(comm, x, op, phase);
      return x;
    });
  }

  /** Copies root's x into every rank's x (same dtype and length everywhere) and returns it. */
  async broadcast<T extends TypedArray>(x: T, root = 0, opts?: CollectiveOptions): Promise<T> {
    this.checkRoot(root, 'broadcast');
    return this.core.run(fp(CollectiveOp.Broadcast, x, RedOp.None, root), opts, (comm) =>
      algo.broadcast(comm, x, root),
    );
  }

  /**
   * Every rank's array, indexed by rank; lengths may differ and may be zero. With `opts.out` (x's dtype,
   * length = the sum of all ranks' lengths) the arrays are views into it instead of a new allocation.
   */
  async allGather<T extends TypedArray>(x: T, opts?: AllGatherOptions<T>): Promise<T[]> {
    const out = opts?.out;
    if (out !== undefined && out.constructor !== x.constructor) {
      throw new TypeError(`allGather: out is ${out.constructor.name} but x is ${x.constructor.name}`);
    }
    return this.core.run(fp(CollectiveOp.AllGather, x, RedOp.None, 0, 0), opts, async (comm, phase) => {
      const { counts, parts } = await algo.allGatherCounts(comm, x, out);
      if (out) checkGatherOut(this.core, out.length, counts);
      // With a matching out, the announce round already placed every part into it.
      if (parts) return parts;
      return algo.allGatherV(phase(1), x, counts, out);
    });
  }

  private async exchangeCounts(comm: Comm, n: number): Promise<number[]> {
    if (this.size === 1) return [n];
    const all = await algo.allGatherV(comm, new Float64Array([n]), new Array(this.size).fill(1));
    return all.map((a) => a[0]);
  }

  /** Root receives every rank's array (any lengths); other ranks get undefined. */
  async gather<T extends TypedArray>(x: T, root = 0, opts?: CollectiveOptions): Promise<T[] | undefined> {
    this.checkRoot(root, 'gather');
    return this.core.run(fp(CollectiveOp.Gather, x, RedOp.None, root, 0), opts, async (comm, phase) => {
      const counts = await this.exchangeCounts(comm, x.length);
      return algo.gatherV(phase(1), x, counts, root);
    });
  }

  /** Root passes one array per rank (any lengths); every rank receives its part. */
  async scatter<T extends TypedArray>(parts?: T[], root = 0, opts?: CollectiveOptions): Promise<T> {
    this.checkRoot(root, 'scatter');
    const isRoot = this.rank === root;
    if (isRoot) {
      if (!Array.isArray(parts) || parts.length !== this.size) {
        throw new TypeError(
          `scatter: the root must pass one array per rank (${this.size}), got ${parts?.length ?? 'none'}`,
        );
      }
      const d0 = dtypeOf(parts[0]);
      for (const p of parts) {
        if (dtypeOf(p) !== d0) throw new TypeError('scatter: all parts must have the same dtype');
      }
    }
    // Non-roots do not know the dtype or their length: the root sends both first (phase 0).
    return this.core.run(
      fp(CollectiveOp.Scatter, undefined, RedOp.None, root, 0),
      opts,
      async (comm, phase) => {
        const meta = new Float64Array(this.size + 1);
        if (isRoot && parts) {
          meta[0] = dtypeOf(parts[0]);
          parts.forEach((p, i) => {
            meta[i + 1] = p.length;
          });
        }
        await algo.broadcast(comm, meta, root);
        const dtype = meta[0] as DType;
        const counts = Array.from(meta.subarray(1));
        const ctor = typedArrayFor(dtype, new Uint8Array(0)).constructor as TypedArrayConstructor;
        return algo.scatterV<T>(phase(1), isRoot ? parts : undefined, counts, root, ctor);
      },
    );
  }

  /** Root's x receives the reduction (other ranks' x unchanged); returns x. */
  async reduce<T extends TypedArray>(
    x: T,
    op: ReduceOp = 'sum',
    root = 0,
    opts?: CollectiveOptions,
  ): Promise<T> {
    this.checkRoot(root, 'reduce');
    return this.core.run(fp(CollectiveOp.Reduce, x, redOpFromName(op), root), opts, async (comm) => {
      await algo.reduce(comm, x, op, root);
      return x;
    });
  }

  /**
   * This rank's block [floor(n·r/size), floor(n·(r+1)/size)) of the element-wise reduction; x is left
   * unmodified. With `opts.out` the block is written there and out is returned.
   */
  async reduceScatter<T extends TypedArray>(
    x: T,
    op: ReduceOp = 'sum',
    opts?: ReduceScatterOptions<T>,
  ): Promise<T> {
    const out = opts?.out;
    if (out !== undefined && out.constructor !== x.constructor) {
      throw new TypeError(`reduceScatter: out is ${out.constructor.name} but x is ${x.constructor.name}`);
    }
    return this.core.run(fp(CollectiveOp.ReduceScatter, x, redOpFromName(op)), opts, async (comm) => {
      if (out) checkReduceScatterOut(this.core, out.length, x.length, comm.size, comm.rank);
      return algo.reduceScatter(comm, x, op, out);
    });
  }

  /** parts[d] goes to rank d (any lengths); returns what each source sent, indexed by source. */
  async allToAll<T extends TypedArray>(parts: T[], opts?: CollectiveOptions): Promise<T[]> {
    if (!Array.isArray(parts) || parts.length !== this.size) {
      throw new TypeError(`allToAll: pass one array per rank (${this.size}), got ${parts?.length ?? 'none'}`);
    }
    const d = dtypeOf(parts[0]);
    return this.core.run(
      { op: CollectiveOp.AllToAll, dtype: d, redop: RedOp.None, count: 0, root: 0 },
      opts,
      async (comm, phase) => {
        const sendCounts = new Float64Array(parts.map((p) => p.length));
        const perRank =
          this.size === 1
            ? [sendCounts]
            : await algo.allToAllV(comm, splitCounts(sendCounts, this.size), ones(this.size));
        const recvCounts = perRank.map((c) => c[0]);
        return algo.allToAllV(phase(1), parts, recvCounts);
      },
    );
  }

  /** In place: rank r's x becomes op(x_0, ..., x_r); returns x. Every op of allReduce except 'avg'. */
  async scan<T extends TypedArray>(x: T, op: ReduceOp = 'sum', opts?: CollectiveOptions): Promise<T> {
    return scanCall(this.core, x, op, false, opts);
  }

  /** In place: rank r's x becomes op(x_0, ..., x_{r-1}); rank 0's the op's identity. Returns x. */
  async exscan<T extends TypedArray>(x: T, op: ReduceOp = 'sum', opts?: CollectiveOptions): Promise<T> {
    return scanCall(this.core, x, op, true, opts);
  }

  /** MAXLOC / MINLOC: per element, the extreme value and the lowest group rank holding it (x unchanged). */
  async allReduceLoc<T extends TypedArray>(x: T, op: LocOp, opts?: CollectiveOptions): Promise<LocResult<T>> {
    return allReduceLocCall(this.core, x, op, opts);
  }

  async barrier(opts?: CollectiveOptions): Promise<void> {
    await this.core.run(fp(CollectiveOp.Barrier), opts, (comm) => algo.barrier(comm));
  }

  /** Point-to-point send; resolves when the bytes are handed to the transport (they are copied first). */
  async send(x: TypedArray, dst: number, tag = 0): Promise<void> {
    this.checkPeer(dst, 'send');
    const h = makeHeader({
      kind: MessageKind.PointToPoint,
      group: this.core.id,
      dtype: dtypeOf(x),
      count: x.length,
      tag,
      payloadType: PayloadType.Typed,
    });
    const bytes = Buffer.from(x.buffer, x.byteOffset, x.byteLength);
    await this.core.sendP2P(dst, h, Buffer.from(bytes));
  }

  /** Receives the next array `src` sent with `tag` (FIFO per source and tag). */
  async recv<T extends TypedArray = TypedArray>(src: number, tag = 0, opts?: CollectiveOptions): Promise<T> {
    this.checkPeer(src, 'recv');
    const { header, payload } = await this.core.recvP2P(src, tag, opts?.timeoutMs ?? this.core.timeoutMs);
    return typedArrayFor(header.dtype, payload) as T;
  }

  async broadcastObject<V>(v: V, root = 0, opts?: CollectiveOptions): Promise<V> {
    this.checkRoot(root, 'broadcastObject');
    return this.core.run(
      fp(CollectiveOp.BroadcastObject, undefined, RedOp.None, root),
      opts,
      async (comm, phase) => {
        const bytes = this.rank === root ? serialize(v) : undefined;
        const len = new Float64Array([bytes?.length ?? 0]);
        await algo.broadcast(comm, len, root);
        const buf = bytes ?? new Uint8Array(len[0]);
        await algo.broadcast(phase(1), buf, root);
        return (this.rank === root ? v : deserialize(buf)) as V;
      },
    );
  }

  async allGatherObject<V>(v: V, opts?: CollectiveOptions): Promise<V[]> {
    return this.core.run(fp(CollectiveOp.AllGatherObject), opts, async (comm, phase) => {
      const bytes = new Uint8Array(serialize(v));
      const { counts, parts } = await algo.allGatherCounts(comm, bytes);
      const all = parts ?? (await algo.allGatherV(phase(1), bytes, counts));
      return all.map((b, r) => (r === this.rank ? v : (deserialize(b) as V)));
    });
  }

  async gatherObject<V>(v: V, root = 0, opts?: CollectiveOptions): Promise<V[] | undefined> {
    this.checkRoot(root, 'gatherObject');
    return this.core.run(
      fp(CollectiveOp.GatherObject, undefined, RedOp.None, root),
      opts,
      async (comm, phase) => {
        const bytes = new Uint8Array(serialize(v));
        const counts = await this.exchangeCounts(comm, bytes.length);
        const all = await algo.gatherV(phase(1), bytes, counts, root);
        return all?.map((b, r) => (r === this.rank ? v : (deserialize(b) as V)));
      },
    );
  }

  /** The root passes one value per rank (any sizes); each rank returns its own (the root its own object). */
  async scatterObject<V>(values?: readonly V[], root = 0, opts?: CollectiveOptions): Promise<V> {
    this.checkRoot(root, 'scatterObject');
    return scatterObjectCall(this.core, values, root, opts);
  }

  /** values[d] goes to rank d; returns what each source sent, indexed by source (own entry as passed). */
  async allToAllObject<V>(values: readonly V[], opts?: CollectiveOptions): Promise<V[]> {
    return allToAllObjectCall(this.core, values, opts);
  }

  /** Concatenates every rank's Arrow table (same schema) in rank order, on every rank. */
  async allGatherTable(table: Table, opts?: CollectiveOptions): Promise<Table> {
    return this.core.run(fp(CollectiveOp.AllGatherTable), opts, async (comm, phase) => {
      const bytes = tableToIPC(table, 'stream');
      const counts = await this.exchangeCounts(comm, bytes.length);
      const all = await algo.allGatherV(phase(1), bytes, counts);
      const tables = all.map((b, r) => (r === this.rank ? table : tableFromIPC(b)));
      return tables[0].concat(...tables.slice(1));
    });
  }

  /**
   * A sub-group of the given ranks of this group (collective: every rank calls it with the same list).
   * Ranks outside the list get undefined.
   */
  async split(ranks: number[], opts?: CollectiveOptions): Promise<ProcessGroup | undefined> {
    const list = [...ranks];
    const seen = new Set<number>();
    for (const r of list) {
      this.checkPeer(r, 'split');
      if (seen.has(r)) throw new RangeError(`split: rank ${r} is listed twice`);
      seen.add(r);
    }
    const splitNo = ++this.splits;
    const lists = await this.core.run(
      fp(CollectiveOp.Split, undefined, RedOp.None, 0, list.length),
      opts,
      async (comm, phase) => {
        const bytes = new Uint8Array(serialize(list));
        const counts = await this.exchangeCounts(comm, bytes.length);
        return (await algo.allGatherV(phase(1), bytes, counts)).map((b) => deserialize(b) as number[]);
      },
    );
    const mine = JSON.stringify(list);
    const other = lists.findIndex((l) => JSON.stringify(l) !== mine);
    if (other >= 0) {
      throw new CollectiveMismatchError(
        [
          { rank: this.ranks[this.rank], call: `split([${list.join(', ')}])` },
          { rank: this.ranks[other], call: `split([${lists[other].join(', ')}])` },
        ],
        'different rank lists',
      );
    }
    const idx = list.indexOf(this.rank);
    if (idx < 0) return undefined;
    const id = subGroupId(this.core.id, splitNo);
    const core = new GroupCore(
      this.core.world,
      id,
      list.map((r) => this.ranks[r]),
      idx,
      this.core.timeoutMs,
    );
    this.core.world.register(id, core);
    return new ProcessGroup(core);
  }

  /** @internal Runs fn when the group is destroyed. */
  onDestroy(fn: () => void): void {
    this.destroyHooks.push(fn);
  }

  /** Leaves the group; on the world group this closes every socket of this process. */
  async destroy(): Promise<void> {
    if (this.core.destroyed) return;
    if (!this.core.broken && this.size > 1) {
      try {
        await this.barrier({ timeoutMs: Math.min(this.core.timeoutMs, 30_000) });
      } catch {
        // Peers already gone: nothing left to synchronise with.
      }
    }
    this.core.destroyed = true;
    for (const h of this.destroyHooks) h();
    this.core.world.unregister(this.core.id);
    if (this.core.id === 0) await this.core.world.close();
  }
}

function ones(n: number): number[] {
  return new Array(n).fill(1);
}

function splitCounts(counts: Float64Array, n: number): Float64Array[] {
  return Array.from({ length: n }, (_, i) => counts.subarray(i, i + 1));
}

/** Deterministic id of the n-th split of a group: the same on every member, never 0 (the world). */
function subGroupId(parent: number, n: number): number {
  let h = 2166136261 ^ parent;
  h = Math.imul(h, 16777619) ^ n;
  h = Math.imul(h, 16777619) >>> 0;
  return h === 0 ? 1 : h;
}
