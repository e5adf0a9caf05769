/**
 * Errors of the task pool. Every user-facing message of src/pool lives here (as piscina's errors.ts), so
 * the wording stays consistent and greppable.
 */
import { TsrunError } from '../errors.js';

/** Base class of every task-pool error. */
export class PoolError extends TsrunError {
  override name = 'PoolError';
}

/** Where a remote failure happened. */
export interface RemoteOrigin {
  host: string;
  pid: number;
  attempt: number;
}

/** A remote function threw: carries the remote error's name, message and stack, and where it ran. */
export class RemoteError extends PoolError {
  override name = 'RemoteError';
  readonly remoteName: string;
  readonly remoteMessage: string;
  readonly remoteStack: string;
  readonly host: string;
  readonly pid: number;
  readonly attempt: number;
  constructor(
    readonly task: string,
    remote: { name: string; message: string; stack: string },
    origin: RemoteOrigin,
  ) {
    super(
      `${task} failed on ${origin.host} (pid ${origin.pid}, attempt ${origin.attempt}): ` +
        `${remote.name}: ${remote.message}\n--- remote stack ---\n${remote.stack}`,
    );
    this.remoteName = remote.name;
    this.remoteMessage = remote.message;
    this.remoteStack = remote.stack;
    this.host = origin.host;
    this.pid = origin.pid;
    this.attempt = origin.attempt;
  }
}

/** The worker(s) running a task died more often than the task's maxRetries allows. */
export class WorkerLostError extends PoolError {
  override name = 'WorkerLostError';
  constructor(
    readonly task: string,
    readonly attempts: number,
    detail: string,
  ) {
    super(
      `${task}: the worker running it was lost ${attempts} time${attempts === 1 ? '' : 's'} (${detail}); ` +
        'retries exhausted. Raise maxRetries in remote(..., { maxRetries }) if the task is idempotent.',
    );
  }
}

/** get() did not see the value within its timeoutMs. */
export class GetTimeoutError extends PoolError {
  override name = 'GetTimeoutError';
  constructor(
    readonly timeoutMs: number,
    readonly pendingIds: string[],
  ) {
    super(
      `get timed out after ${timeoutMs} ms; ${pendingIds.length} object${pendingIds.length === 1 ? '' : 's'} ` +
        `not ready (${pendingIds.slice(0, 5).join(', ')}${pendingIds.length > 5 ? ', …' : ''})`,
    );
  }
}

/** The head (scheduler) of the cluster went away; every pending ref rejects with this. */
export class HeadLostError extends PoolError {
  override name = 'HeadLostError';
  constructor(address: string, detail: string) {
    super(
      `lost the pool head at ${address}: ${detail}. Pending tasks cannot finish; reconnect and resubmit.`,
    );
  }
}

/** The head refused our credentials, or nothing answered at the address. */
export class PoolConnectError extends PoolError {
  override name = 'PoolConnectError';
}

/** A value, option or call the pool cannot accept; the message names it. */
export class PoolUsageError extends PoolError {
  override name = 'PoolUsageError';
}

/** The pool was closed; the call cannot be served. */
export class PoolClosedError extends PoolError {
  override name = 'PoolClosedError';
  constructor(what: string) {
    super(`${what}: the pool is closed (call connect() again for a new one)`);
  }
}

/** An object's bytes could not be fetched (its holder died or freed it). */
export class ObjectLostError extends PoolError {
  override name = 'ObjectLostError';
  constructor(
    readonly objectId: string,
    detail: string,
  ) {
    super(`object ${objectId} is lost: ${detail}`);
  }
}

/** An error as it travels on the wire. */
export interface WireErrorInfo {
  kind: 'remote' | 'lost' | 'usage' | 'object' | 'actor';
  task: string;
  name: string;
  message: string;
  stack: string;
  host: string;
  pid: number;
  attempt: number;
}

/** The process a wire error comes from (host '' and pid 0 when the head itself refuses the task). */
export interface WireOrigin {
  host: string;
  pid: number;
  attempt: number;
}

const AT_HEAD: WireOrigin = { host: '', pid: 0, attempt: 0 };

/** A refusal the driver rethrows as PoolUsageError. */
export function wireUsage(task: string, message: string): WireErrorInfo {
  return { kind: 'usage', task, name: 'PoolUsageError', message, stack: '', ...AT_HEAD };
}

/** A task asks for more cpus than any worker of the cluster offers. */
export function wireTooManyCpus(task: string, cpus: number, most: number): WireErrorInfo {
  return wireUsage(
    task,
    `${task} asks for cpus: ${cpus} but the largest worker offers ${most}; lower cpus or start workers with more (cpusPerWorker / TSRUN_POOL_CPUS)`,
  );
}

/** An spmd() call needs more ranks than the cluster has workers. */
export function wireSpmdTooFewWorkers(task: string, ranks: number, workers: number): WireErrorInfo {
  return wireUsage(
    task,
    `spmd needs ${ranks} workers but the cluster has ${workers}; lower ranks or start more workers`,
  );
}

/** A task names an argument the head no longer has (freed, or another driver's). */
export function wireArgumentFreed(objectId: string, fn: string, attempt: number): WireErrorInfo {
  return {
    kind: 'object',
    task: objectId,
    name: 'ObjectLostError',
    message: `argument of ${fn} was freed or belongs to another driver`,
    stack: '',
    host: '',
    pid: 0,
    attempt,
  };
}

/** An object whose only copy was in a worker that died. */
export function wireObjectLost(
  objectId: string,
  why: string,
  holder: { host: string; pid: number },
): WireErrorInfo {
  return {
    kind: 'object',
    task: objectId,
    name: 'ObjectLostError',
    message: `it was held by a worker that died (${why})`,
    stack: '',
    ...holder,
    attempt: 0,
  };
}

/** The task's worker died (and the task may not be retried, or its retries are used up). */
export function wireWorkerLost(task: string, why: string, origin: WireOrigin): WireErrorInfo {
  return { kind: 'lost', task, name: 'WorkerLostError', message: why, stack: '', ...origin };
}

/** Another rank of the task's SPMD group lost its worker, so the group cannot go on. */
export function wireSpmdPeerLost(task: string, why: string, origin: WireOrigin): WireErrorInfo {
  return wireWorkerLost(task, `a rank of the SPMD group lost its worker (${why})`, origin);
}

/** The task's function threw; remote is what the worker reported (absent from an older worker). */
export function wireRemoteFailure(
  task: string,
  remote: { name: string; message: string; stack: string } | undefined,
  origin: WireOrigin,
): WireErrorInfo {
  const e = remote ?? { name: 'Error', message: 'unknown failure', stack: '' };
  return { kind: 'remote', task, name: e.name, message: e.message, stack: e.stack, ...origin };
}

/** An actor's constructor or call cannot be served: the actor is dead for `cause`. */
export function wireActorDied(task: string, cause: string, origin: WireOrigin): WireErrorInfo {
  return { kind: 'actor', task, name: 'ActorDiedError', message: cause, stack: '', ...origin };
}

/** Rebuilds the typed error a driver throws from its wire form. */
export function errorFromWire(e: WireErrorInfo): PoolError {
  switch (e.kind) {
    case 'remote':
      return new RemoteError(e.task, e, e);
    case 'lost':
      return new WorkerLostError(e.task, e.attempt, e.message);
    case 'object':
      return new ObjectLostError(e.task, e.message);
    case 'actor':
      return new ActorDiedError(e.task, e.message, e);
    default:
      return new PoolUsageError(e.message);
  }
}

/** A task given remote(..., { timeoutMs }) had not finished in time (it may still be running). */
export class TaskTimeoutError extends PoolError {
  override name = 'TaskTimeoutError';
  constructor(
    readonly task: string,
    readonly timeoutMs: number,
  ) {
    super(`${task} did not finish within its timeoutMs of ${timeoutMs} ms`);
  }
}

/** An actor call cannot be served: the actor was killed, its constructor threw, or its process died past maxRestarts. */
export class ActorDiedError extends PoolError {
  override name = 'ActorDiedError';
  readonly host: string;
  readonly pid: number;
  constructor(
    readonly actor: string,
    readonly deathCause: string,
    where: { host: string; pid: number },
  ) {
    super(
      `${actor}: the actor is dead (${deathCause})${where.pid ? ` — it ran on ${where.host}, pid ${where.pid}` : ''}`,
    );
    this.host = where.host;
    this.pid = where.pid;
  }
}

/** getActor(name) found no live actor of that name in the cluster. */
export class ActorNotFoundError extends PoolError {
  override name = 'ActorNotFoundError';
  constructor(readonly actorName: string) {
    super(
      `no live actor named ${JSON.stringify(actorName)} in this cluster (create it with actorClass(..., { name }))`,
    );
  }
}

/** An object could not be kept: the store's memory is full and spilling it to disk failed too. */
export class ObjectStoreFullError extends PoolError {
  override name = 'ObjectStoreFullError';
  constructor(
    readonly objectId: string,
    readonly objectBytes: number,
    readonly memoryBytes: number,
    readonly limitBytes: number,
    readonly spilledBytes: number,
    readonly spillDir: string,
    readonly diskFreeBytes: number | undefined,
    readonly reason: string,
  ) {
    super(
      `object ${objectId} (${objectBytes} bytes) does not fit: the object store holds ${memoryBytes} of its ` +
        `${limitBytes} bytes in memory and spilling to ${spillDir} failed (${reason}; ${spilledBytes} bytes ` +
        `spilled there, ${diskFreeBytes ?? '?'} bytes free on its disk). Free objects, raise objectStoreBytes ` +
        '(TSRUN_OBJECT_STORE_BYTES, --object-store-memory) or point TSRUN_SPILL_DIR at a larger disk',
    );
  }
}
