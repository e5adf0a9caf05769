/**
 * The driver's table of its objects: for each ObjectRef, whether it is ready, its bytes (or who holds
 * them) and who waits for it; get() and wait() are answered from here. pool.ts submits and puts; this
 * file only records outcomes and hands out values.
 */
import { decodePayload } from '../wire/index.js';
import { errorFromWire, GetTimeoutError, type PoolError, PoolUsageError } from './errors.js';
import { isObjectRef, type ObjectRef } from './object-ref.js';
import type { ObjectFetcher, ObjectServer, StoredObject } from './object-server.js';
import { type Location, storedFromBlobs } from './protocol.js';
import type { DoneItem } from './task-types.js';

export enum State {
  Pending,
  Ready,
  Failed,
}

export interface Entry {
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

export class RefTable {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly server: ObjectServer,
    private readonly fetcher: ObjectFetcher,
  ) {}

  has(id: string): boolean {
    return this.entries.has(id);
  }

  entry(id: string): Entry | undefined {
    return this.entries.get(id);
  }

  add(id: string, e: Entry): void {
    this.entries.set(id, e);
  }

  /** Forgets id (its ref was collected); returns what it was. */
  remove(id: string): Entry | undefined {
    const e = this.entries.get(id);
    if (e) this.entries.delete(id);
    return e;
  }

  /** Outcomes the head reported (Done), with the inline bytes in blobs. */
  done(items: DoneItem[], blobs: Uint8Array[]): void {
    for (const d of items) {
      const e = this.entries.get(d.id);
      if (!e) continue;
      if (d.ok) {
        if (d.meta) e.stored = storedFromBlobs(d.meta, blobs);
        e.loc = d.loc;
        this.settle(e, State.Ready);
      } else {
        // A ready object can turn lost (its worker died): stop waiting for its bytes at once.
        if (e.fetching) this.fetcher.failAll(new Set([d.id]), d.error?.message ?? 'lost');
        this.settle(e, State.Failed, errorFromWire(d.error!));
      }
    }
  }

  settle(e: Entry, state: State, error?: PoolError): void {
    e.state = state;
    e.error = error;
    e.keep = undefined;
    if (e.timer) clearTimeout(e.timer);
    const w = e.waiters;
    e.waiters = undefined;
    if (w) for (let i = 0; i < w.length; i++) w[i]();
  }

  /** Every pending object fails with error() (the head was lost, or the pool closed). */
  failPending(error: () => PoolError): void {
    for (const e of this.entries.values())
      if (e.state === State.Pending) this.settle(e, State.Failed, error());
  }

  entryOf(ref: ObjectRef, what: string): Entry {
    if (!isObjectRef(ref)) throw new PoolUsageError(`${what}: expected an ObjectRef, got ${typeof ref}`);
    const e = this.entries.get(ref.id);
    if (!e) throw new PoolUsageError(`${what}: ${ref} does not belong to this pool`);
    return e;
  }

  whenSettled(e: Entry): Promise<void> {
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

  /** Pool.get: the value of one ref, or of each ref of an array, in order. */
  async get(refOrRefs: ObjectRef | readonly ObjectRef[], opts: { timeoutMs?: number }): Promise<unknown> {
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

  /** Pool.wait: see there. */
  async wait<T extends ObjectRef>(
    refs: readonly T[],
    opts: { numReturns?: number; timeoutMs?: number },
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
}
