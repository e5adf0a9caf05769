/**
 * The driver's outgoing side: tasks and puts become wire records (arguments serialized, big ones put
 * as objects of their own), submissions made in one synchronous stretch leave in one message, and refs
 * the program dropped are freed at the head in batches.
 */
import { serialize } from 'node:v8';
import { Table } from 'apache-arrow';
import { encodePayload } from '../wire/index.js';
import { PoolUsageError, TaskTimeoutError } from './errors.js';
import type { HeadConnection } from './head-link.js';
import { isObjectRef, ObjectRef } from './object-ref.js';
import { type ObjectServer, type StoredObject, storedBytes } from './object-server.js';
import { readPoolConfig } from './pool-config.js';
import { PoolOp, pushBlob } from './protocol.js';
import { type Entry, type RefTable, State } from './ref-table.js';
import { traceSubmit, tracing } from './task-trace.js';
import type { TaskSpec } from './task-types.js';

/** What the submitter needs from its pool. */
export interface SubmitterHooks {
  newId(): string;
  /** Throws when the pool is closed or lost its head. */
  checkOpen(what: string): void;
  /** The pool is closed or lost its head: nothing more goes to the head. */
  gone(): boolean;
}

export class Submitter {
  private submitBatch: TaskSpec[] = [];
  private freeBatch: string[] = [];
  private flushQueued = false;
  /** Values and arguments at most this large travel inline (PoolConfig.inlineMaxBytes). */
  private readonly inlineMaxBytes = readPoolConfig().inlineMaxBytes;
  private readonly registry = new FinalizationRegistry<string>((id) => this.release(id));

  constructor(
    private readonly link: HeadConnection,
    private readonly refs: RefTable,
    private readonly server: ObjectServer,
    private readonly hooks: SubmitterHooks,
  ) {}

  submit(
    mod: string,
    fn: string,
    args: unknown[],
    o: { maxRetries: number; retryExceptions: boolean; cpus: number; timeoutMs?: number },
    spmd?: TaskSpec['spmd'],
    actor?: TaskSpec['actor'],
  ): ObjectRef {
    this.hooks.checkOpen(`calling ${fn}`);
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
        if (!this.refs.has(a.id))
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
    const id = this.hooks.newId();
    const entry: Entry = { state: State.Pending, keep };
    this.refs.add(id, entry);
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
          this.refs.settle(entry, State.Failed, new TaskTimeoutError(`${fn} (task ${id})`, o.timeoutMs!));
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
    const e = this.refs.remove(id);
    if (!e) return;
    this.server.store.delete(id);
    if (e.timer) clearTimeout(e.timer);
    if (this.hooks.gone()) return;
    this.freeBatch.push(id);
    this.queueFlush();
  }

  /** Pool.put: see there. */
  put<T>(value: T): ObjectRef<T> {
    this.hooks.checkOpen('put');
    let enc: StoredObject;
    try {
      enc = encodePayload(value);
    } catch (e) {
      throw new PoolUsageError(`put: ${(e as Error).message}`);
    }
    // Typed arrays encode as a view of the caller's memory; copy so the stored object is immutable.
    if (ArrayBuffer.isView(value))
      enc = { ...enc, frames: enc.frames.map((f) => Uint8Array.prototype.slice.call(f)) };
    const id = this.hooks.newId();
    const size = storedBytes(enc);
    if (size <= this.inlineMaxBytes) {
      this.refs.add(id, { state: State.Ready, stored: enc });
      const blobs: Uint8Array[] = [];
      const meta = pushBlob(blobs, enc);
      this.flushNow();
      this.link.send(PoolOp.PutLocation, [{ id, size, meta }], blobs);
    } else {
      // Only in the store, which may spill it: get() reads it back from there.
      this.server.store.set(id, enc);
      this.refs.add(id, { state: State.Ready });
      this.flushNow();
      this.link.send(PoolOp.PutLocation, [{ id, size, loc: this.server.location }]);
    }
    const ref = new ObjectRef<T>(id);
    this.registry.register(ref, id);
    return ref;
  }

  /** Keeps the head's view in call order: tasks submitted before a put reach it before the put. */
  flushNow(): void {
    if (this.submitBatch.length > 0) {
      this.link.send(PoolOp.Submit, this.submitBatch);
      this.submitBatch = [];
    }
  }
}

/** Arguments that travel as objects of their own: big typed arrays (raw bytes) and Arrow tables (IPC). */
function travelsAsObject(v: unknown, inlineMaxBytes: number): boolean {
  if (ArrayBuffer.isView(v)) return v.byteLength > inlineMaxBytes;
  return v instanceof Table;
}
