/** Task and object records shared by the head, the driver and the worker. */
import type { ActorTaskInfo } from './actors/actor-types.js';
import type { StoredObject } from './object-server.js';
import type { BlobMeta, Location } from './protocol.js';

/** What a driver submits: the function by module URL + export name, the arguments already encoded. */
export interface TaskSpec {
  id: string;
  mod: string;
  fn: string;
  /** v8-serialized argument array; top-level ObjectRefs appear as { __tsrunRef: id } markers. */
  args: Uint8Array;
  /** Distinct ids of the ObjectRef arguments; the task runs once all are ready. */
  deps: string[];
  cpus: number;
  maxRetries: number;
  retryExceptions: boolean;
  spmd?: SpmdSpec;
  /** Set for an actor's constructor (fn = class name) or one of its method calls (fn = method). */
  actor?: ActorTaskInfo;
}

export interface SpmdSpec {
  group: string;
  rank: number;
  size: number;
  secret: string;
}

/** Filled in by the head when it places an SPMD group. */
export interface SpmdPlacement extends SpmdSpec {
  localRank: number;
  localSize: number;
  masterAddr?: string;
  masterPort?: number;
}

/** One task as a worker receives it. */
export interface DispatchItem {
  id: string;
  mod: string;
  fn: string;
  args: Uint8Array;
  attempt: number;
  deps: Array<{ id: string; meta?: BlobMeta; loc?: Location }>;
  spmd?: SpmdPlacement;
  actor?: ActorTaskInfo;
}

/** A finished task as the worker reports it. */
export interface CompletionItem {
  id: string;
  ok: boolean;
  /** Set for results small enough to travel with the completion. */
  meta?: BlobMeta;
  size: number;
  error?: { name: string; message: string; stack: string };
  attempt: number;
}

/** What the head tells the driver about one of its objects. */
export interface DoneItem {
  id: string;
  ok: boolean;
  meta?: BlobMeta;
  loc?: Location;
  size: number;
  error?: import('./errors.js').WireErrorInfo;
}

/** Results at most this large travel inline (with the completion, then with dependent tasks). */
export const INLINE_MAX_BYTES = Number(process.env.TSRUN_POOL_INLINE_BYTES ?? 100 * 1024);

export type { StoredObject };
