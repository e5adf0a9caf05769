/** tsrun/collectives: the SPMD style — a process group and its collectives (torch.distributed-like). */
export {
  CollectiveMismatchError,
  CollectiveTimeoutError,
  ConfigError,
  EnvironmentError,
  GroupClosedError,
  PeerLostError,
  RendezvousError,
  TsrunError,
} from '../src/errors.js';
export type { FlightDump, FlightRecord } from '../src/flight-record.js';
export { REDUCE_OPS, type ReduceOp, type TypedArray } from '../src/wire/vocabulary.js';
export { FLIGHT_CAPACITY, recentCalls } from './flight-recorder.js';
export { DEFAULT_TIMEOUT_MS, type InitOptions, init } from './init.js';
export type { LocOp, LocResult } from './prefix-loc-object-calls.js';
export {
  type AllGatherOptions,
  type CollectiveOptions,
  ProcessGroup,
  type ReduceScatterOptions,
} from './process-group.js';
