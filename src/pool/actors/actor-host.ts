/**
 * The worker's side of actors: constructs each actor placed here and runs its calls in the order the
 * head sent them (which is their submission order), one at a time, or up to maxConcurrency async calls
 * at once. Runs beside the worker's task loop; its completions travel in their own Complete messages
 * carrying no credit, since actor calls are outside the worker's task allowance.
 */
import { failureOf, successOf } from '../completion.js';
import { Deque } from '../deque.js';
import type { ObjectServer } from '../object-server.js';
import { PoolOp } from '../protocol.js';
import type { CompletionItem, DispatchItem } from '../task-types.js';
import { READY_METHOD } from './actor-types.js';

export interface ActorHostHooks {
  /** The call's arguments with ObjectRefs resolved; a promise only when some must be fetched. */
  args(item: DispatchItem, blobs: Uint8Array[]): unknown[] | Promise<unknown[]>;
  module(url: string): Promise<Record<string, unknown>>;
  send(op: PoolOp, body: unknown, blobs: Uint8Array[]): void;
  readonly server: ObjectServer;
  /** Results at most this large travel with the completion (PoolConfig.inlineMaxBytes). */
  readonly inlineMaxBytes: number;
}

interface Instance {
  id: string;
  cls: string;
  obj?: Record<string, unknown>;
  constructing: boolean;
  failed: boolean;
  queue: Deque<{ item: DispatchItem; blobs: Uint8Array[] }>;
  running: number;
  max: number;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as PromiseLike<unknown>).then === 'function';
}

export class ActorHost {
  private readonly instances = new Map<string, Instance>();
  private results: CompletionItem[] = [];
  private blobs: Uint8Array[] = [];
  private flushQueued = false;

  constructor(private readonly hooks: ActorHostHooks) {}

  accept(item: DispatchItem, blobs: Uint8Array[]): void {
    const a = item.actor!;
    if (a.create) {
      const inst: Instance = {
        id: a.id,
        cls: a.create.cls,
        constructing: true,
        failed: false,
        queue: new Deque(),
        running: 0,
        max: a.create.maxConcurrency,
      };
      this.instances.set(a.id, inst);
      void this.construct(inst, item, blobs);
      return;
    }
    const inst = this.instances.get(a.id);
    if (!inst) {
      this.fail(item, new Error(`actor ${a.id} does not live in worker pid ${process.pid}`));
      return;
    }
    inst.queue.push({ item, blobs });
    this.pump(inst);
  }

  /** The head killed the actor: drop it (calls still running finish, but nobody waits for them). */
  stop(id: string): void {
    this.instances.delete(id);
  }

  private async construct(inst: Instance, item: DispatchItem, blobs: Uint8Array[]): Promise<void> {
    try {
      const args = await this.hooks.args(item, blobs);
      const mod = await this.hooks.module(item.mod);
      const C = mod[item.fn];
      if (typeof C !== 'function') {
        throw new TypeError(
          `${item.mod} has no exported class '${item.fn}' (exports: ${Object.keys(mod).join(', ') || 'none'})`,
        );
      }
      inst.obj = new (C as new (...a: unknown[]) => Record<string, unknown>)(...args);
      this.succeed(item, undefined);
    } catch (e) {
      inst.failed = true;
      this.fail(item, e);
    }
    inst.constructing = false;
    this.pump(inst);
  }

  private pump(inst: Instance): void {
    if (inst.constructing || this.instances.get(inst.id) !== inst) return;
    while (inst.running < inst.max && inst.queue.length > 0) {
      const { item, blobs } = inst.queue.shift()!;
      const pending = this.start(inst, item, blobs);
      if (pending) {
        inst.running += 1;
        void pending.then(() => {
          inst.running -= 1;
          this.pump(inst);
        });
      }
    }
  }

  /** Runs one call; returns a promise only when it did not finish synchronously. */
  private start(inst: Instance, item: DispatchItem, blobs: Uint8Array[]): Promise<void> | undefined {
    if (inst.failed) {
      this.fail(item, new Error(`the constructor of actor ${inst.cls} threw`));
      return undefined;
    }
    let args: unknown[] | Promise<unknown[]>;
    try {
      args = this.hooks.args(item, blobs);
    } catch (e) {
      this.fail(item, e);
      return undefined;
    }
    if (isThenable(args))
      return (args as Promise<unknown[]>).then(
        (a) => this.invoke(inst, item, a),
        (e) => this.fail(item, e),
      );
    return this.invoke(inst, item, args);
  }

  private invoke(inst: Instance, item: DispatchItem, args: unknown[]): Promise<void> | undefined {
    try {
      const method = item.actor!.method;
      if (method === READY_METHOD) {
        this.succeed(item, undefined);
        return undefined;
      }
      const fn = inst.obj![method];
      if (typeof fn !== 'function' || method === 'constructor') {
        throw new TypeError(`actor class ${inst.cls} has no method '${method}'`);
      }
      const v = (fn as (...a: unknown[]) => unknown).apply(inst.obj, args);
      if (isThenable(v)) {
        return Promise.resolve(v).then(
          (r) => this.succeed(item, r),
          (e) => this.fail(item, e),
        );
      }
      this.succeed(item, v);
    } catch (e) {
      this.fail(item, e);
    }
    return undefined;
  }

  private succeed(item: DispatchItem, value: unknown): void {
    try {
      this.results.push(successOf(item, value, this.hooks.server, this.blobs, this.hooks.inlineMaxBytes));
    } catch (e) {
      this.results.push(failureOf(item, e));
    }
    this.queueFlush();
  }

  private fail(item: DispatchItem, e: unknown): void {
    this.results.push(failureOf(item, e));
    this.queueFlush();
  }

  /**
   * Completions leave once the calls at hand are done: at the end of this turn's microtasks when no
   * call is pending (a lone call's round trip), else after the turn (a burst leaves in one message).
   */
  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      if (this.busy()) setImmediate(() => this.flush());
      else this.flush();
    });
  }

  private busy(): boolean {
    for (const inst of this.instances.values()) if (inst.running > 0 || inst.queue.length > 0) return true;
    return false;
  }

  private flush(): void {
    this.flushQueued = false;
    const results = this.results;
    const blobs = this.blobs;
    this.results = [];
    this.blobs = [];
    if (results.length > 0) this.hooks.send(PoolOp.Complete, { credit: 0, results }, blobs);
  }
}
