/**
 * tsrun's task pool (the Ray style): `connect()` to a cluster (or an embedded local one), then
 * `remote`, `get`, `wait`, `put`, `map`, `spmd`, `actorClass`, `getActor`, `close`. See README "Task pool".
 */

export type {
  ActorClass,
  ActorHandle,
  ActorMethods,
  ActorOptions,
  ActorState,
  ActorSummary,
} from './actors/actor-types.js';
export { type ConnectOptions, connect } from './connect.js';
export {
  ActorDiedError,
  ActorNotFoundError,
  GetTimeoutError,
  HeadLostError,
  ObjectLostError,
  PoolClosedError,
  PoolConnectError,
  PoolError,
  PoolUsageError,
  RemoteError,
  TaskTimeoutError,
  WorkerLostError,
} from './errors.js';
export { isObjectRef, ObjectRef } from './object-ref.js';
export type { Pool } from './pool.js';
export type {
  AnyFn,
  MapOptions,
  RemoteArgs,
  RemoteFunction,
  RemoteOptions,
  SpmdContext,
  SpmdOptions,
} from './remote-types.js';
