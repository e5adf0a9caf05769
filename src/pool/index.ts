/**
 * tsrun's task pool (the Ray style): `connect()` to a cluster (or an embedded local one), then
 * `remote`, `get`, `wait`, `put`, `map`, `spmd`, `close`. See README "Task pool".
 */
export { type ConnectOptions, connect } from './connect.js';
export {
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
