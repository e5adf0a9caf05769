/**
 * The driver side of the pool: remote(), get(), wait(), put(), map(), spmd(), close(). Submissions made
 * in one synchronous stretch travel to the head in one message; completions come back batched too.
 * Longer than ~300 lines because every call shares the driver's table of object entries (state, bytes,
 * waiters) and its batching; the types are in remote-types.ts, the wire records in task-types.ts.
 */
import { deserialize, serialize } from 'node:v8';
import { Table } from 'apache-arrow';
import { decodePayload, encodePayload } from '../wire/index.js';
import { ActorClient } from './actors/actor-client.js';
import type {
  ActorClass,
  ActorHandle,
  ActorInfoReply,
  ActorOptions,
  AnyClass,
} from './actors/actor-types.js';
import {
  errorFromWire,
  GetTimeoutError,
  HeadLostError,
  PoolClosedError,
  type PoolError,
  PoolUsageError,
  RemoteError,
  TaskTimeoutError,
} from './errors.js';
import type { HeadLink } from './head-link.js';
import { isObjectRef, ObjectRef } from './object-ref.js';
import { type ObjectFetcher, type ObjectServer, type StoredObject, storedBytes } from './object-server.js';
import { readPoolConfig } from './pool-config.js';
import type { Location } from './protocol.js';
import { type PoolMessage, PoolOp, pushBlob, storedFromBlobs } from './protocol.js';
import type {
  AnyFn,
  MapOptions,
  RemoteArgs,
  RemoteFunction,
  RemoteOptions,
  SpmdOptions,
} from './remote-types.js';
import { traceDriverThread, traceSubmit, tracing } from './task-trace.js';
import type { DoneItem, TaskSpec } from './task-types.js';

enum State {
  Pending,
  Ready,
  Failed,
}

interface Entry {
  state: State;
  stored?: StoredObject;
  loc?: Location;
  fetching?: Promise<StoredObject>;
  error?: PoolError;
  waiters?: Array<() => void>;
  /** Auto-put arguments kept alive until the task finishes. */
  keep?: ObjectRef[];
  timer?: NodeJS.Timeout;
}

/** What close() must also stop when this driver owns the cluster (embedded pool). */
export interface OwnedCluster {
  stop(): Promise<void>;
  readonly workers: number;
}

export class Pool {
  private readonly entries = new Map<string, Entry>();
  private submitBatch: TaskSpec[] = [];
  private freeBatch: string[] = [];
  private flushQueued = false;
  private nextId = 1;
  private closed = false;
  private lostError: Error | undefined;
  private readonly events = new Map<string, (value: unknown, rank: number) => void>();
  /** Values and arguments at most this large travel inline (PoolConfig.inlineMaxBytes). */
  private readonly inlineMaxBytes = readPoolConfig().inlineMaxBytes;
  private readonly registry = new FinalizationRegistry<string>((id) => this.release(id));
  private readonly actors = new ActorClient({
    submit: (mod, fn, args, cpus, actor) =>
      this.submit(mod, fn, args, { maxRetries: 0, retryExceptions: false, cpus }, undefined, actor),
    newId: () => `${this.clientId}.a${this.nextId++}`,
    send: (op, body) => {
      this.flushSubmitsNow();
      this.link.send(op, body);
    },
    get: (ref) => this.get(ref),
    checkOpen: (what) => this.checkOpen(what),
  });

  /** @internal — use connect(). */
  constructor(
    private readonly link: HeadLink,
    private readonly clientId: number,
    private readonly server: ObjectServer,
    private readonly fetcher: ObjectFetcher,
    private readonly owned?: OwnedCluster,
    private readonly joinedWorkers = 0,
  ) {
    link.onMessage = (m) => this.onMessage(m);
    link.onLost = (e) => this.lose(e);
    if (tracing) traceDriverThread();
  }

  /**
   * Workers of the cluster: an embedded or `tsrun --pool` pool's count, or, attached to a cluster, how
   * many had joined when this driver connected (status() gives the current count).
   */
  get workers(): number {
    return this.owned?.workers ?? this.joinedWorkers;
  }

  remote<F extends AnyFn>(
    moduleUrl: URL | string,
    exportName: string,
    opts: RemoteOptions = {},
  ): RemoteFunction<F> {
    const mod = String(moduleUrl);
    if (!/^(file|https?|data|node):/.test(mod)) {
      throw new PoolUsageError(
        `remote(${JSON.stringify(mod)}, '${exportName}'): name the module by URL, e.g. new URL('./tasks.ts', import.meta.url)`,
      );
    }
    const options = {
      maxRetries: opts.maxRetries ?? 3,
      retryExceptions: opts.retryExceptions ?? false,
      cpus: opts.cpus ?? 1,
      timeoutMs: opts.timeoutMs,
    };
    for (const [k, v] of [
      ['maxRetries', options.maxRetries],
      ['cpus', options.cpus],
    ] as const) {
      if (!Number.isInteger(v) || v < (k === 'cpus' ? 1 : 0)) {
        throw new PoolUsageError(
          `remote(..., '${exportName}', { ${k}: ${v} }): must be an integer ≥ ${k === 'cpus' ? 1 : 0}`,
        );
      }
    }
    const call = (...args: unknown[]) => this.submit(mod, exportName, args, options);
    return Object.assign(call, { moduleUrl: mod, exportName, options }) as unknown as RemoteFunction<F>;
  }

  private newId(): string {
    return `${this.clientId}.${this.nextId++}`;
  }

  private checkOpen(what: string): void {
    if (this.lostError) throw this.lostError;
    if (this.closed) throw new PoolClosedError(what);
  }

  private submit(
    mod: string,
    fn: string,
    args: unknown[],
    o: { maxRetries: number; retryExceptions: boolean; cpus: number; timeoutMs?: number },
    spmd?: TaskSpec['spmd'],
    actor?: TaskSpec['actor'],
  ): ObjectRef {
    this.checkOpen(`calling ${fn}`);
    const t0 = tracing ? performance.now() : 0;
    let deps: string[] | undefined;
    let keep: ObjectRef[] | undefined;
    const wire = new Array<unknown>(args.length);
    for (let i = 0; i < args.length; i++) {
      let a = args[i];
      if (!isObjectRef(a) && travelsAsObject(a, this.inlineMaxBytes)) {
        a = this.put(a);
        keep ??= [];
        keep.push(a as ObjectRef);
      }
      if (isObjectRef(a)) {
        if (!this.entries.has(a.id))
          throw new PoolUsageError(`argument ${i} of ${fn}: ${a} is not from this pool`);
        wire[i] = { __tsrunRef: a.id };
        deps ??= [];
        if (!deps.includes(a.id)) deps.push(a.id);
      } else wire[i] = a;
    }
    let bytes: Buffer;
    try {
      bytes = serialize(wire);
    } catch (e) {
      throw new PoolUsageError(
        `arguments of ${fn} cannot be sent (${(e as Error).message}); pass typed arrays, Arrow tables, ObjectRefs or structured-cloneable values`,
      );
    }
    const id = this.newId();
    const entry: Entry = { state: State.Pending, keep };
    this.entries.set(id, entry);
    this.submitBatch.push({
      id,
      mod,
      fn,
      args: bytes,
      deps: deps ?? [],
      cpus: o.cpus,
      maxRetries: o.maxRetries,
      retryExceptions: o.retryExceptions,
      spmd,
      actor,
    });
    this.queueFlush();
    const ref = new ObjectRef(id);
    this.registry.register(ref, id);
    if (o.timeoutMs !== undefined) {
      entry.timer = setTimeout(() => {
        if (entry.state === State.Pending)
          this.settle(entry, State.Failed, new TaskTimeoutError(`${fn} (task ${id})`, o.timeoutMs!));
      }, o.timeoutMs);
      entry.timer.unref();
    }
    if (tracing) traceSubmit(fn, id, t0);
    return ref;
  }

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      if (this.submitBatch.length > 0) {
        this.link.send(PoolOp.Submit, this.submitBatch);
        this.submitBatch = [];
      }
      if (this.freeBatch.length > 0) {
        this.link.send(PoolOp.Free, this.freeBatch);
        this.freeBatch = [];
      }
    });
  }

  private release(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    this.entries.delete(id);
    this.server.store.delete(id);
    if (e.timer) clearTimeout(e.timer);
    if (this.closed || this.lostError) return;
    this.freeBatch.push(id);
    this.queueFlush();
  }

  private onMessage(m: PoolMessage): void {
    if (m.op === PoolOp.Done) {
      for (const d of m.body as DoneItem[]) {
        const e = this.entries.get(d.id);
        if (!e) continue;
        if (d.ok) {
          if (d.meta) e.stored = storedFromBlobs(d.meta, m.blobs);
          e.loc = d.loc;
          this.settle(e, State.Ready);
        } else {
          // A ready object can turn lost (its worker died): stop waiting for its bytes at once.
          if (e.fetching) this.fetcher.failAll(new Set([d.id]), d.error?.message ?? 'lost');
          this.settle(e, State.Failed, errorFromWire(d.error!));
        }
      }
    } else if (m.op === PoolOp.Event) {
      for (const ev of m.body as Array<{ id: string; rank: number; value: Uint8Array }>) {
        const cb = this.events.get(ev.id);
        if (cb) cb(deserialize(ev.value), ev.rank);
      }
    } else if (m.op === PoolOp.ActorInfo) {
      for (const r of m.body as ActorInfoReply[]) this.actors.onInfo(r);
    } else if (m.op === PoolOp.Shutdown) {
      this.lose(new HeadLostError(this.link.address, 'the cluster was stopped (tsrun cluster stop)'));
    }
  }

  private settle(e: Entry, state: State, error?: PoolError): void {
    e.state = state;
    e.error = error;
    e.keep = undefined;
    if (e.timer) clearTimeout(e.timer);
    const w = e.waiters;
    e.waiters = undefined;
    if (w) for (let i = 0; i < w.length; i++) w[i]();
  }

  private lose(err: Error): void {
    if (this.lostError || this.closed) return;
    this.lostError = err;
    this.actors.failAll(err);
    for (const e of this.entries.values())
      if (e.state === State.Pending) this.settle(e, State.Failed, err as PoolError);
  }

  private entryOf(ref: ObjectRef, what: string): Entry {
    if (!isObjectRef(ref)) throw new PoolUsageError(`${what}: expected an ObjectRef, got ${typeof ref}`);
    const e = this.entries.get(ref.id);
    if (!e) throw new PoolUsageError(`${what}: ${ref} does not belong to this pool`);
    return e;
  }

  private whenSettled(e: Entry): Promise<void> {
    if (e.state !== State.Pending) return Promise.resolve();
    return new Promise((resolve) => {
      e.waiters ??= [];
      e.waiters.push(resolve);
    });
  }

  private async valueOf(ref: ObjectRef, e: Entry): Promise<unknown> {
    if (e.state === State.Failed) throw e.error;
    const own = e.stored ? undefined : this.server.store.get(ref.id);
    if (own) return decodePayload(own, own.frames);
    if (!e.stored) {
      if (!e.loc) throw new PoolUsageError(`${ref} is ready but has neither bytes nor a holder`);
      e.fetching ??= this.fetcher.fetch(ref.id, e.loc);
      e.stored = await e.fetching;
      e.fetching = undefined;
    }
    return decodePayload(e.stored, e.stored.frames);
  }

  /** The value of one ref, or of each ref of an array, in order. */
  get<T>(ref: ObjectRef<T>, opts?: { timeoutMs?: number }): Promise<T>;
  get<T extends readonly ObjectRef[]>(
    refs: T,
    opts?: { timeoutMs?: number },
  ): Promise<{ [K in keyof T]: T[K] extends ObjectRef<infer V> ? V : never }>;
  async get(
    refOrRefs: ObjectRef | readonly ObjectRef[],
    opts: { timeoutMs?: number } = {},
  ): Promise<unknown> {
    const many = Array.isArray(refOrRefs);
    const refs = (many ? refOrRefs : [refOrRefs]) as ObjectRef[];
    const entries = refs.map((r) => this.entryOf(r, 'get'));
    const pending = entries.filter((e) => e.state === State.Pending);
    if (pending.length > 0) {
      const all = Promise.all(pending.map((e) => this.whenSettled(e)));
      if (opts.timeoutMs === undefined) await all;
      else {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          all.then(() => false),
          new Promise<boolean>((r) => {
            timer = setTimeout(() => r(true), opts.timeoutMs);
          }),
        ]);
        clearTimeout(timer);
        if (timedOut) {
          throw new GetTimeoutError(
            opts.timeoutMs,
            refs.filter((_, i) => entries[i].state === State.Pending).map((r) => r.id),
          );
        }
      }
    }
    const values = await Promise.all(refs.map((r, i) => this.valueOf(r, entries[i])));
    return many ? values : values[0];
  }

  /**
   * Waits until numReturns (default 1) of refs are finished (successfully or not) or timeoutMs passed;
   * returns at most numReturns of them as ready, in input order, and the rest as pending.
   */
  async wait<T extends ObjectRef>(
    refs: readonly T[],
    opts: { numReturns?: number; timeoutMs?: number } = {},
  ): Promise<{ ready: T[]; pending: T[] }> {
    const want = Math.min(opts.numReturns ?? 1, refs.length);
    const entries = refs.map((r) => this.entryOf(r, 'wait'));
    const count = () => entries.reduce((n, e) => n + (e.state !== State.Pending ? 1 : 0), 0);
    if (count() < want) {
      await new Promise<void>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        const check = () => {
          if (count() >= want) {
            clearTimeout(timer);
            resolve();
          }
        };
        if (opts.timeoutMs !== undefined) timer = setTimeout(resolve, opts.timeoutMs);
        for (const e of entries) if (e.state === State.Pending) void this.whenSettled(e).then(check);
      });
    }
    const ready: T[] = [];
    const pending: T[] = [];
    // As Ray: at most numReturns in ready (the first finished ones in input order), the rest pending.
    refs.forEach((r, i) => {
      (entries[i].state !== State.Pending && ready.length < want ? ready : pending).push(r);
    });
    return { ready, pending };
  }

  /** Stores a value once (copied, so later changes by the caller do not leak in); pass the ref to many tasks. */
  put<T>(value: T): ObjectRef<T> {
    this.checkOpen('put');
    let enc: StoredObject;
    try {
      enc = encodePayload(value);
    } catch (e) {
      throw new PoolUsageError(`put: ${(e as Error).message}`);
    }
    // Typed arrays encode as a view of the caller's memory; copy so the stored object is immutable.
    if (ArrayBuffer.isView(value))
      enc = { ...enc, frames: enc.frames.map((f) => Uint8Array.prototype.slice.call(f)) };
    const id = this.newId();
    const size = storedBytes(enc);
    if (size <= this.inlineMaxBytes) {
      this.entries.set(id, { state: State.Ready, stored: enc });
      const blobs: Uint8Array[] = [];
      const meta = pushBlob(blobs, enc);
      this.flushSubmitsNow();
      this.link.send(PoolOp.PutLocation, [{ id, size, meta }], blobs);
    } else {
      // Only in the store, which may spill it: get() reads it back from there.
      this.server.store.set(id, enc);
      this.entries.set(id, { state: State.Ready });
      this.flushSubmitsNow();
      this.link.send(PoolOp.PutLocation, [{ id, size, loc: this.server.location }]);
    }
    const ref = new ObjectRef<T>(id);
    this.registry.register(ref, id);
    return ref;
  }

  /** Keeps the head's view in call order: tasks submitted before a put reach it before the put. */
  private flushSubmitsNow(): void {
    if (this.submitBatch.length > 0) {
      this.link.send(PoolOp.Submit, this.submitBatch);
      this.submitBatch = [];
    }
  }

  /**
   * Runs fn over argsList, yielding results in input order, with at most maxInFlight tasks submitted and
   * not finished at any time (so a huge input never floods the cluster or the driver's memory).
   */
  async *map<F extends AnyFn>(
    fn: RemoteFunction<F>,
    argsList: Iterable<RemoteArgs<Parameters<F>>>,
    opts: MapOptions = {},
  ): AsyncGenerator<Awaited<ReturnType<F>>> {
    const max = opts.maxInFlight ?? 100;
    if (!Number.isInteger(max) || max < 1)
      throw new PoolUsageError(`map: maxInFlight must be an integer ≥ 1, got ${max}`);
    const it = argsList[Symbol.iterator]();
    const window: ObjectRef[] = [];
    let inFlight = 0;
    let exhausted = false;
    let wake: (() => void) | undefined;
    const onSettled = () => {
      inFlight -= 1;
      const w = wake;
      wake = undefined;
      w?.();
    };
    for (;;) {
      while (!exhausted && inFlight < max) {
        const n = it.next();
        if (n.done) {
          exhausted = true;
          break;
        }
        const ref = fn(...(n.value as RemoteArgs<Parameters<F>>));
        window.push(ref);
        inFlight += 1;
        void this.whenSettled(this.entries.get(ref.id)!).then(onSettled);
      }
      if (window.length === 0) return;
      const head = this.entries.get(window[0].id)!;
      if (head.state !== State.Pending) {
        yield (await this.get(window.shift()!)) as Awaited<ReturnType<F>>;
        continue;
      }
      await new Promise<void>((r) => {
        wake = r;
      });
    }
  }

  /**
   * Runs an SPMD function on `ranks` workers at once, as one process group (the way Ray Train runs torch
   * DDP on Ray workers). fn(ctx, ...args) gets ctx = { pg, rank, size, emit }; the group is destroyed
   * when fn returns. Resolves to each rank's return value, indexed by rank.
   */
  async spmd<R = unknown>(
    moduleUrl: URL | string,
    exportName: string,
    opts: SpmdOptions,
    ...args: unknown[]
  ): Promise<R[]> {
    const { ranks } = opts;
    if (!Number.isInteger(ranks) || ranks < 1)
      throw new PoolUsageError(`spmd: ranks must be an integer ≥ 1, got ${ranks}`);
    const mod = String(moduleUrl);
    const group = `${this.clientId}.g${this.nextId++}`;
    const { randomBytes } = await import('node:crypto');
    const secret = randomBytes(32).toString('hex');
    const refs: ObjectRef[] = [];
    for (let rank = 0; rank < ranks; rank++) {
      const ref = this.submit(
        mod,
        exportName,
        args,
        { maxRetries: 0, retryExceptions: false, cpus: 1 },
        { group, rank, size: ranks, secret },
      );
      if (opts.onEvent) this.events.set(ref.id, opts.onEvent);
      refs.push(ref);
    }
    try {
      const settled = await Promise.allSettled(refs.map((r) => this.get(r)));
      const errors = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as Error] : []));
      if (errors.length > 0) {
        // A rank's own failure is the root cause; its peers then report a lost peer or a mismatch.
        const echo = /^(PeerLostError|CollectiveMismatchError|CollectiveTimeoutError|GroupClosedError)$/;
        throw errors.find((e) => !(e instanceof RemoteError && echo.test(e.remoteName))) ?? errors[0];
      }
      return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as R[];
    } finally {
      for (const r of refs) this.events.delete(r.id);
    }
  }

  /**
   * A class whose instances live in workers (Ray's actors): `create(...args)` returns a handle at once;
   * `handle.call('m', ...args)` (or `handle.methods.m(...)`) returns an ObjectRef of the method's result.
   * Calls run in submission order; see ActorOptions for restarts, names and concurrency.
   */
  actorClass<C extends AnyClass>(
    moduleUrl: URL | string,
    className: string,
    opts: ActorOptions = {},
  ): ActorClass<C> {
    return this.actors.actorClass<C>(moduleUrl, className, opts);
  }

  /** The live actor created with { name } by any driver of this cluster; ActorNotFoundError if none. */
  // biome-ignore lint/suspicious/noExplicitAny: the caller names the instance type
  getActor<I = any>(name: string, opts: { timeoutMs?: number } = {}): Promise<ActorHandle<I>> {
    return this.actors.getActor<I>(name, opts.timeoutMs);
  }

  /** Cluster state as `tsrun cluster status` shows it. */
  async status(): Promise<Record<string, unknown>> {
    this.checkOpen('status');
    return new Promise((resolve) => {
      const prev = this.link.onMessage;
      this.link.onMessage = (m) => {
        if (m.op === PoolOp.StatusReply) {
          this.link.onMessage = prev;
          resolve(m.body as Record<string, unknown>);
        } else prev(m);
      };
      this.link.send(PoolOp.Status, 0);
    });
  }

  /** Leaves the cluster (and stops it when this driver started it). Pending refs reject with PoolClosedError. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flushSubmitsNow();
    this.closed = true;
    this.actors.failAll(new PoolClosedError('getActor'));
    for (const e of this.entries.values()) {
      if (e.state === State.Pending)
        this.settle(e, State.Failed, new PoolClosedError('waiting for a result'));
    }
    await this.link.sendNow(PoolOp.Goodbye, 0);
    this.link.close();
    this.fetcher.close();
    this.server.close();
    await this.owned?.stop();
  }
}

/** Arguments that travel as objects of their own: big typed arrays (raw bytes) and Arrow tables (IPC). */
function travelsAsObject(v: unknown, inlineMaxBytes: number): boolean {
  if (ArrayBuffer.isView(v)) return v.byteLength > inlineMaxBytes;
  return v instanceof Table;
}
