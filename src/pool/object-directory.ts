/**
 * The head's object directory: every task result and put of the cluster's drivers, where its bytes are
 * (inline here, or the worker holding them), who owns it and what still uses it. An object is forgotten
 * once its owner dropped its ref, no task needs it and it is no longer pending; workers caching it are
 * then told to free it.
 */
import { type WireErrorInfo, wireObjectLost } from './errors.js';
import type { Outbox } from './outbox.js';
import { type BlobMeta, type Location, PoolOp, pushBlob, storedFromBlobs } from './protocol.js';
import type { Client, DoneItem, ObjRec, StoredObject, TaskRec, WorkerRec } from './task-types.js';

/** One object a driver put, as PutLocation carries it: inline (meta) or held by loc. */
export interface PutItem {
  id: string;
  size: number;
  loc?: Location;
  meta?: BlobMeta;
}

/** Where a finished task's result is. */
export interface TaskResult {
  inline?: StoredObject;
  loc?: Location;
  size: number;
}

export class ObjectDirectory {
  private readonly objects = new Map<string, ObjRec>();
  /** Ids forgotten since the last flush that workers may hold or cache. */
  private freed: string[] = [];

  constructor(private readonly outbox: Outbox) {}

  get size(): number {
    return this.objects.size;
  }

  get(id: string): ObjRec | undefined {
    return this.objects.get(id);
  }

  /** The result object of a task just submitted by owner. */
  addPending(id: string, owner: Client): void {
    this.objects.set(id, {
      id,
      state: 'pending',
      size: 0,
      dependents: [],
      held: true,
      uses: 0,
      owner,
    });
  }

  /** Objects a driver put (PutLocation). */
  put(owner: Client, items: PutItem[], blobs: Uint8Array[]): void {
    for (const p of items) {
      this.objects.set(p.id, {
        id: p.id,
        state: 'ready',
        size: p.size,
        loc: p.loc,
        inline: p.meta ? storedFromBlobs(p.meta, blobs) : undefined,
        dependents: [],
        held: true,
        uses: 0,
        owner,
      });
    }
  }

  /** The owner dropped its refs to ids. */
  release(owner: Client, ids: string[]): void {
    for (const id of ids) {
      const o = this.objects.get(id);
      if (o && o.owner === owner) {
        o.held = false;
        this.maybeFree(o);
      }
    }
  }

  /** Adds (+1) or drops (-1) a use of an object by a task or an actor. */
  use(id: string, delta: 1 | -1): void {
    const o = this.objects.get(id);
    if (!o) return;
    o.uses += delta;
    this.maybeFree(o);
  }

  /** The first argument of t that failed (or was lost with its worker), if any. */
  failedDep(t: TaskRec): ObjRec | undefined {
    for (const d of t.spec.deps) {
      const o = this.objects.get(d);
      if (o?.state === 'failed') return o;
    }
    return undefined;
  }

  /**
   * Records the outcome of the task whose result o is and tells its driver. The caller then settles the
   * tasks that waited on o and calls maybeFree(o).
   */
  settle(o: ObjRec, driver: Client, ok: boolean, res?: TaskResult, error?: WireErrorInfo): void {
    o.state = ok ? 'ready' : 'failed';
    o.inline = res?.inline;
    o.loc = res?.loc;
    o.size = res?.size ?? 0;
    o.error = error;
    const item: DoneItem = { id: o.id, ok, size: o.size, loc: o.loc, error };
    const out = this.outbox.box(driver, PoolOp.Done);
    if (o.inline) item.meta = pushBlob(out.blobs, o.inline);
    out.items.push(item);
  }

  maybeFree(o: ObjRec): void {
    if (o.held || o.uses > 0 || o.state === 'pending') return;
    this.objects.delete(o.id);
    if (o.shared || (o.loc && o.loc.workerId !== 0)) this.freed.push(o.id);
  }

  /** Objects whose only copy was in w fail, and their owners hear it at once. */
  workerLost(w: WorkerRec, why: string): void {
    const holder = { host: w.client.hello.hostname, pid: w.client.hello.pid };
    for (const o of this.objects.values()) {
      if (o.loc?.workerId !== w.id) continue;
      o.loc = undefined;
      o.state = 'failed';
      o.error = wireObjectLost(o.id, why, holder);
      this.outbox.box(o.owner, PoolOp.Done).items.push({
        id: o.id,
        ok: false,
        size: 0,
        error: o.error,
      } satisfies DoneItem);
    }
  }

  /** A driver left: its objects go, and tasks waiting on them will never run. */
  ownerGone(c: Client): void {
    for (const o of [...this.objects.values()]) {
      if (o.owner !== c) continue;
      o.held = false;
      for (const t of o.dependents) t.finished = true;
      o.dependents = [];
      if (o.state === 'pending') o.state = 'failed';
      this.maybeFree(o);
    }
  }

  /** Ids freed since the last call, for the workers' Free message. */
  takeFreed(): string[] {
    const ids = this.freed;
    this.freed = [];
    return ids;
  }
}
