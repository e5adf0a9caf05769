/**
 * The driver side of the pool: remote(), get(), wait(), put(), map(), spmd(), close(). What leaves for
 * the head (submissions, puts, frees, batched) is submitter.ts; the driver's table of its objects, which
 * answers get() and wait(), is ref-table.ts. The types are in remote-types.ts, the wire records in
 * task-types.ts.
 */
import { deserialize } from 'node:v8';
import { ActorClient } from './actors/actor-client.js';
import type {
  ActorClass,
  ActorHandle,
  ActorInfoReply,
  ActorOptions,
  AnyClass,
} from './actors/actor-types.js';
import { HeadLostError, PoolClosedError, type PoolError, PoolUsageError, RemoteError } from './errors.js';
import type { HeadConnection } from './head-link.js';
import type { ObjectRef } from './object-ref.js';
import type { ObjectFetcher, ObjectServer } from './object-server.js';
import { type PoolMessage, PoolOp } from './protocol.js';
import { RefTable, State } from './ref-table.js';
import type {
  AnyFn,
  MapOptions,
  RemoteArgs,
  RemoteFunction,
  RemoteOptions,
  SpmdOptions,
} from './remote-types.js';
import { Submitter } from './submitter.js';
import { traceDriverThread, tracing } from './task-trace.js';
import type { DoneItem } from './task-types.js';

/** What close() must also stop when this driver owns the cluster (embedded pool). */
export interface OwnedCluster {
  stop(): Promise<void>;
  readonly workers: number;
}

export class Pool {
  private readonly refs: RefTable;
  private readonly submitter: Submitter;
  private nextId = 1;
  private closed = false;
  private lostError: Error | undefined;
  private readonly events = new Map<string, (value: unknown, rank: number) => void>();
  private readonly actors = new ActorClient({
    submit: (mod, fn, args, cpus, actor) =>
      this.submitter.submit(mod, fn, args, { maxRetries: 0, retryExceptions: false, cpus }, undefined, actor),
    newId: () => `${this.clientId}.a${this.nextId++}`,
    send: (op, body) => {
      this.submitter.flushNow();
      this.link.send(op, body);
    },
    get: (ref) => this.get(ref),
    checkOpen: (what) => this.checkOpen(what),
  });

  /** @internal — use connect(). */
  constructor(
    private readonly link: HeadConnection,
    private readonly clientId: number,
    private readonly server: ObjectServer,
    private readonly fetcher: ObjectFetcher,
    private readonly owned?: OwnedCluster,
    private readonly joinedWorkers = 0,
  ) {
    this.refs = new RefTable(server, fetcher);
    this.submitter = new Submitter(link, this.refs, server, {
      newId: () => this.newId(),
      checkOpen: (what) => this.checkOpen(what),
      gone: () => this.closed || this.lostError !== undefined,
    });
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
    const call = (...args: unknown[]) => this.submitter.submit(mod, exportName, args, options);
    return Object.assign(call, { moduleUrl: mod, exportName, options }) as unknown as RemoteFunction<F>;
  }

  private newId(): string {
    return `${this.clientId}.${this.nextId++}`;
  }

  private checkOpen(what: string): void {
    if (this.lostError) throw this.lostError;
    if (this.closed) throw new PoolClosedError(what);
  }

  private onMessage(m: PoolMessage): void {
    if (m.op === PoolOp.Done) {
      this.refs.done(m.body as DoneItem[], m.blobs);
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

  private lose(err: Error): void {
    if (this.lostError || this.closed) return;
    this.lostError = err;
    this.actors.failAll(err);
    this.refs.failPending(() => err as PoolError);
  }

  /** The value of one ref, or of each ref of an array, in order. */
  get<T>(ref: ObjectRef<T>, opts?: { timeoutMs?: number }): Promise<T>;
  get<T extends readonly ObjectRef[]>(
    refs: T,
    opts?: { timeoutMs?: number },
  ): Promise<{ [K in keyof T]: T[K] extends ObjectRef<infer V> ? V : never }>;
  get(refOrRefs: ObjectRef | readonly ObjectRef[], opts: { timeoutMs?: number } = {}): Promise<unknown> {
    return this.refs.get(refOrRefs, opts);
  }

  /**
   * Waits until numReturns (default 1) of refs are finished (successfully or not) or timeoutMs passed;
   * returns at most numReturns of them as ready, in input order, and the rest as pending.
   */
  wait<T extends ObjectRef>(
    refs: readonly T[],
    opts: { numReturns?: number; timeoutMs?: number } = {},
  ): Promise<{ ready: T[]; pending: T[] }> {
    return this.refs.wait(refs, opts);
  }

  /** Stores a value once (copied, so later changes by the caller do not leak in); pass the ref to many tasks. */
  put<T>(value: T): ObjectRef<T> {
    return this.submitter.put(value);
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
        void this.refs.whenSettled(this.refs.entry(ref.id)!).then(onSettled);
      }
      if (window.length === 0) return;
      const head = this.refs.entry(window[0].id)!;
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
      const ref = this.submitter.submit(
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
    this.submitter.flushNow();
    this.closed = true;
    this.actors.failAll(new PoolClosedError('getActor'));
    this.refs.failPending(() => new PoolClosedError('waiting for a result'));
    await this.link.sendNow(PoolOp.Goodbye, 0);
    this.link.close();
    this.fetcher.close();
    this.server.close();
    await this.owned?.stop();
  }
}
