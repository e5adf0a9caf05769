/**
 * The driver's side of actors: actorClass() and its handles, getActor() by name. A constructor and
 * each call are submitted like tasks (same batching, refs as arguments and results), marked with the
 * actor they belong to; the head sends them to the actor's worker in submission order.
 */
import { ActorNotFoundError, PoolUsageError } from '../errors.js';
import type { ObjectRef } from '../object-ref.js';
import { PoolOp } from '../protocol.js';
import {
  type ActorClass,
  type ActorHandle,
  type ActorInfoReply,
  type ActorMethods,
  type ActorOptions,
  type ActorTaskInfo,
  type AnyClass,
  READY_METHOD,
} from './actor-types.js';

/** What actors need from the Pool. */
export interface ActorDriverHooks {
  submit(mod: string, fn: string, args: unknown[], cpus: number, actor: ActorTaskInfo): ObjectRef;
  /** A new id, unique in the cluster. */
  newId(): string;
  /** Sends at once, after every submission made so far. */
  send(op: PoolOp, body: unknown): void;
  get(ref: ObjectRef): Promise<unknown>;
  checkOpen(what: string): void;
}

export class ActorClient {
  private nextReq = 1;
  private readonly lookups = new Map<
    number,
    { resolve: (r: ActorInfoReply) => void; reject: (e: Error) => void }
  >();

  constructor(private readonly hooks: ActorDriverHooks) {}

  actorClass<C extends AnyClass>(
    moduleUrl: URL | string,
    className: string,
    opts: ActorOptions,
  ): ActorClass<C> {
    const mod = String(moduleUrl);
    const where = `actorClass(..., '${className}')`;
    if (!/^(file|https?|data|node):/.test(mod)) {
      throw new PoolUsageError(
        `actorClass(${JSON.stringify(mod)}, '${className}'): name the module by URL, e.g. new URL('./counter.ts', import.meta.url)`,
      );
    }
    const o = {
      maxRestarts: opts.maxRestarts ?? 0,
      maxTaskRetries: opts.maxTaskRetries ?? 0,
      cpus: opts.cpus ?? 1,
      maxConcurrency: opts.maxConcurrency ?? 1,
    };
    for (const [k, v] of Object.entries(o)) {
      const min = k === 'cpus' || k === 'maxConcurrency' ? 1 : 0;
      if (!Number.isInteger(v) || v < min)
        throw new PoolUsageError(`${where}, { ${k}: ${v} }): must be an integer ≥ ${min}`);
    }
    if (opts.name !== undefined && (typeof opts.name !== 'string' || opts.name === ''))
      throw new PoolUsageError(`${where}, { name }): the name must be a non-empty string`);
    const options = Object.freeze({ ...o, name: opts.name });
    return {
      moduleUrl: mod,
      className,
      options,
      create: (...args: unknown[]) => {
        const id = this.hooks.newId();
        const ready = this.hooks.submit(mod, className, args, o.cpus, {
          id,
          method: '',
          create: { cls: className, name: opts.name, ...o },
        });
        return new Handle(this.hooks, id, mod, className, opts.name, ready);
      },
    } as ActorClass<C>;
  }

  // biome-ignore lint/suspicious/noExplicitAny: the caller names the instance type
  async getActor<I = any>(name: string, timeoutMs = 30_000): Promise<ActorHandle<I>> {
    this.hooks.checkOpen('getActor');
    const req = this.nextReq++;
    const reply = await new Promise<ActorInfoReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.lookups.delete(req);
        reject(
          new PoolUsageError(`getActor(${JSON.stringify(name)}): the head did not answer in ${timeoutMs} ms`),
        );
      }, timeoutMs);
      this.lookups.set(req, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.hooks.send(PoolOp.ActorLookup, { req, name });
    });
    if (!reply.found) throw new ActorNotFoundError(name);
    return new Handle<I>(this.hooks, reply.id!, reply.mod!, reply.cls!, name);
  }

  onInfo(r: ActorInfoReply): void {
    const l = this.lookups.get(r.req);
    this.lookups.delete(r.req);
    l?.resolve(r);
  }

  /** The pool closed or lost its head: pending lookups fail with its error. */
  failAll(e: Error): void {
    for (const l of this.lookups.values()) l.reject(e);
    this.lookups.clear();
  }
}

class Handle<I> implements ActorHandle<I> {
  readonly methods: ActorMethods<I>;

  constructor(
    private readonly hooks: ActorDriverHooks,
    readonly id: string,
    private readonly mod: string,
    readonly className: string,
    readonly name: string | undefined,
    /** The constructor's result: held here so it lives as long as the handle. */
    private readonly readyRef?: ObjectRef,
  ) {
    this.methods = new Proxy({} as ActorMethods<I>, {
      get: (_, k) => (typeof k === 'string' ? (...args: unknown[]) => this.submit(k, args) : undefined),
    });
  }

  async ready(): Promise<void> {
    await this.hooks.get(this.readyRef ?? this.submit(READY_METHOD, []));
  }

  // biome-ignore lint/suspicious/noExplicitAny: typed by ActorHandle
  call(method: string, ...args: unknown[]): any {
    if (typeof method !== 'string' || method === '')
      throw new PoolUsageError(`${this.className}.call: the method name must be a non-empty string`);
    return this.submit(method, args);
  }

  private submit(method: string, args: unknown[]): ObjectRef {
    return this.hooks.submit(this.mod, method, args, 1, { id: this.id, method });
  }

  async kill(): Promise<void> {
    this.hooks.checkOpen(`kill of actor ${this.className}`);
    this.hooks.send(PoolOp.ActorKill, { id: this.id });
  }

  toString(): string {
    return `ActorHandle(${this.className}${this.name !== undefined ? ` '${this.name}'` : ''} ${this.id})`;
  }
}
