/**
 * Task and object records shared by the head, the driver and the worker: the wire records first, then
 * the head's own bookkeeping records (plain data, so the placement policy is a function over them).
 */
import type { ActorTaskInfo } from './actors/actor-types.js';
import type { Deque } from './deque.js';
import type { WireErrorInfo } from './errors.js';
import type { HelloBody } from './head-link.js';
import type { StoredObject } from './object-server.js';
import type { BlobMeta, Location, PoolOp } from './protocol.js';

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
  error?: WireErrorInfo;
}

export type { StoredObject };

/** `<module file>#<export>`: how errors and counters name a task. */
export function taskName(s: TaskSpec): string {
  const file = s.mod.slice(s.mod.lastIndexOf('/') + 1);
  return `${file}#${s.fn}`;
}

// ---- the head's records ------------------------------------------------------------------------

/** Messages of one op waiting to go to one client (see outbox.ts). */
export interface OutboxEntry {
  op: PoolOp;
  items: unknown[];
  blobs: Uint8Array[];
}

/** A process connected to the head: driver, worker, node agent or admin. */
export interface Client {
  key: string;
  rid: Buffer;
  id: number;
  hello: HelloBody;
  lastHeard: number;
  out: OutboxEntry[];
  /** Set for a client in the head's own process: its messages are handed over, not sent. */
  deliver?: (frames: Uint8Array[]) => void;
}

export interface WorkerRec {
  client: Client;
  id: number;
  cpus: number;
  credit: number;
  location: Location;
  nodeKey: string;
  assigned: Map<string, TaskRec>;
  affinity: Deque<TaskRec>;
  reservedFor?: SpmdGroup;
  /** cpus held by actors living here; a worker holding any takes no tasks. */
  actorCpus: number;
  done: number;
}

export interface TaskRec {
  spec: TaskSpec;
  driver: Client;
  attempt: number;
  waiting: number;
  worker?: WorkerRec;
  preferred?: WorkerRec;
  finished: boolean;
  /** When it entered a worker's affinity queue (stealing waits STEAL_AFTER_MS). */
  queuedAt?: number;
  /** performance.now() at submission, kept only while a dashboard counts tasks. */
  submittedAt?: number;
}

/** An object the head knows of: a task's result or a driver's put. */
export interface ObjRec {
  id: string;
  state: 'pending' | 'ready' | 'failed';
  inline?: StoredObject;
  loc?: Location;
  size: number;
  error?: WireErrorInfo;
  dependents: TaskRec[];
  held: boolean;
  uses: number;
  owner: Client;
  /** Sent to workers as a task argument: they cache its value until told it is freed. */
  shared?: boolean;
}

/** The ranks of one spmd() call, placed together on idle workers (see spmd-gangs.ts). */
export interface SpmdGroup {
  id: string;
  tasks: TaskRec[];
  workers: WorkerRec[];
  placed: boolean;
  finished: number;
}
