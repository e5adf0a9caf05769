/** Actor records shared by the driver, the head and the worker, and the driver API's types. */
import type { ObjectRef } from '../object-ref.js';
import type { RemoteArgs } from '../remote-types.js';

export interface ActorOptions {
  /** Restarts (constructor re-run) after the actor's process died; then ActorDiedError (default 0). */
  maxRestarts?: number;
  /** Re-runs of a call in flight when the actor's process died, on the restarted actor (default 0). */
  maxTaskRetries?: number;
  /** cpus the actor holds on its worker for its whole life (default 1). */
  cpus?: number;
  /** Cluster-wide name: pool.getActor(name) finds it from any driver. */
  name?: string;
  /** Async method calls running at once (default 1: one call at a time, in submission order). */
  maxConcurrency?: number;
}

/** What a TaskSpec carries when it is an actor's constructor or one of its calls. */
export interface ActorTaskInfo {
  id: string;
  /** Method name; '' for the constructor. */
  method: string;
  create?: ActorCreateInfo;
}

export interface ActorCreateInfo {
  cls: string;
  name?: string;
  maxRestarts: number;
  maxTaskRetries: number;
  maxConcurrency: number;
}

/** The head's answer to an ActorLookup. */
export interface ActorInfoReply {
  req: number;
  found: boolean;
  id?: string;
  mod?: string;
  cls?: string;
}

/** Called on a ready actor to learn it is constructed (answered after the constructor, in order). */
export const READY_METHOD = '__tsrunReady';

export type ActorState = 'PENDING' | 'ALIVE' | 'RESTARTING' | 'DEAD';

/** One actor as the head reports it (status, dashboard). */
export interface ActorSummary {
  id: string;
  cls: string;
  name?: string;
  state: ActorState;
  restarts: number;
  host?: string;
  pid?: number;
  callsFinished: number;
  queued: number;
  cause?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: an actor class may take any constructor arguments
export type AnyClass = abstract new (...args: any[]) => any;

type MethodKeys<I> = {
  // biome-ignore lint/suspicious/noExplicitAny: any method signature qualifies
  [K in keyof I]: I[K] extends (...args: any[]) => any ? K : never;
}[keyof I] &
  string;

/** Each method of I as a function returning an ObjectRef of its (awaited) result. */
export type ActorMethods<I> = {
  [K in MethodKeys<I>]: I[K] extends (...args: infer P) => infer R
    ? (...args: RemoteArgs<P>) => ObjectRef<Awaited<R>>
    : never;
};

export interface ActorHandle<I = unknown> {
  readonly id: string;
  readonly className: string;
  readonly name?: string;
  /** Resolves once constructed; rejects with RemoteError if the constructor threw. */
  ready(): Promise<void>;
  /** Queues a call of method m; runs after every call submitted before it through this driver. */
  call<K extends MethodKeys<I>>(
    method: K,
    // biome-ignore lint/suspicious/noExplicitAny: see MethodKeys
    ...args: I[K] extends (...a: infer P) => any ? RemoteArgs<P> : never
  ): ObjectRef<I[K] extends (...a: never[]) => infer R ? Awaited<R> : never>;
  /** Typed sugar: handle.methods.incr(5) is handle.call('incr', 5). */
  readonly methods: ActorMethods<I>;
  /** Stops the actor (no restart); its queued and later calls reject with ActorDiedError. */
  kill(): Promise<void>;
}

export interface ActorClass<C extends AnyClass> {
  readonly moduleUrl: string;
  readonly className: string;
  readonly options: Readonly<ActorOptions>;
  /** Starts an actor; returns its handle at once (calls queue until it is constructed). */
  create(...args: RemoteArgs<ConstructorParameters<C>>): ActorHandle<InstanceType<C>>;
}
