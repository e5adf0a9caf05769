/**
 * Numeric codes of the header's enum fields. The values are part of protocol version 1: never renumber,
 * only append (and teach the decoder's range checks about the new maximum).
 */

import { WireTypeError } from './errors.js';
import type { ReduceOp } from './vocabulary.js';

export const PROTOCOL_VERSION = 1;
export const MAGIC = 0x7473;

export const MessageKind = {
  Collective: 1,
  PointToPoint: 2,
  Hello: 3,
  Heartbeat: 4,
  Abort: 5,
  RendezvousRequest: 6,
  RendezvousReply: 7,
  PoolControl: 8,
  PoolData: 9,
} as const;
export type MessageKind = (typeof MessageKind)[keyof typeof MessageKind];
export const MAX_MESSAGE_KIND = 9;

export const CollectiveOp = {
  AllReduce: 1,
  Broadcast: 2,
  AllGather: 3,
  Gather: 4,
  Scatter: 5,
  Reduce: 6,
  ReduceScatter: 7,
  AllToAll: 8,
  Barrier: 9,
  BroadcastObject: 10,
  AllGatherObject: 11,
  GatherObject: 12,
  AllGatherTable: 13,
  Split: 14,
  /** Internal exchange of per-rank lengths before a variable-size collective. */
  Lengths: 15,
  Scan: 16,
  Exscan: 17,
  AllReduceLoc: 18,
  ScatterObject: 19,
  AllToAllObject: 20,
} as const;
export type CollectiveOp = (typeof CollectiveOp)[keyof typeof CollectiveOp];
export const MAX_COLLECTIVE_OP = 20;

export const DType = {
  None: 0,
  Float32: 1,
  Float64: 2,
  Int8: 3,
  Int16: 4,
  Int32: 5,
  Uint8: 6,
  Uint16: 7,
  Uint32: 8,
  BigInt64: 9,
  BigUint64: 10,
} as const;
export type DType = (typeof DType)[keyof typeof DType];
export const MAX_DTYPE = 10;

export const RedOp = {
  None: 0,
  Sum: 1,
  Prod: 2,
  Min: 3,
  Max: 4,
  Avg: 5,
  Band: 6,
  Bor: 7,
  Bxor: 8,
} as const;
export type RedOp = (typeof RedOp)[keyof typeof RedOp];
export const MAX_RED_OP = 8;

export const PayloadType = {
  None: 0,
  /** Raw typed-array bytes, platform (little-endian) byte order. */
  Typed: 1,
  /** Arrow IPC stream format. */
  Arrow: 2,
  /** v8.serialize (structured clone). */
  V8: 3,
  /** Opaque bytes, returned as they arrived. */
  Bytes: 4,
} as const;
export type PayloadType = (typeof PayloadType)[keyof typeof PayloadType];
export const MAX_PAYLOAD_TYPE = 4;

export const Flags = {
  /** Last message of a stream. */
  Last: 1,
  /** Reserved for a later version; must not be set in v1. */
  Compressed: 2,
  /**
   * Transport-internal, same host only: the payload frame is a descriptor of a shared-memory slot that holds
   * this chunk's bytes (src/transport/shm-plane.ts).
   */
  SharedMemory: 4,
  /** Transport-internal: the receiver has read the shared-memory slot named by `tag`; the sender may reuse it. */
  SlotRelease: 8,
} as const;
/** Flag bits a v1 frame may carry. */
export const KNOWN_FLAGS_V1 = Flags.Last | Flags.SharedMemory | Flags.SlotRelease;

// Index = RedOp code; 'none' has no ReduceOp counterpart.
const RED_OP_NAMES: readonly (ReduceOp | undefined)[] = [
  undefined,
  'sum',
  'prod',
  'min',
  'max',
  'avg',
  'band',
  'bor',
  'bxor',
];

/** Maps a collectives ReduceOp string ('sum', ...) to its wire code. */
export function redOpFromName(name: ReduceOp): RedOp {
  const code = RED_OP_NAMES.indexOf(name);
  if (code <= 0) {
    throw new WireTypeError(
      `unknown reduce op ${JSON.stringify(name)} (expected one of ${RED_OP_NAMES.slice(1).join(', ')})`,
    );
  }
  return code as RedOp;
}

/** Maps a wire RedOp code back to the collectives ReduceOp string. */
export function redOpName(op: RedOp): ReduceOp {
  const name = RED_OP_NAMES[op];
  if (name === undefined)
    throw new WireTypeError(`redop ${op} has no reduce-op name (expected 1..${MAX_RED_OP})`);
  return name;
}
