/**
 * Messages of the task pool on the tsrun wire format: [64-byte header (kind PoolControl, op = PoolOp,
 * seq), body frame (v8), ...blob frames]. Blobs carry object bytes as the wire codec encoded them
 * (typed arrays raw, Arrow IPC, v8), so a result is never re-serialized on its way through the head.
 * Every op carries a batch (an array), so one message moves many tasks when many are queued.
 */
import { deserialize, serialize } from 'node:v8';
import {
  DEFAULT_LIMITS,
  type DType,
  decodeMessage,
  encodeHeader,
  MessageKind,
  makeHeader,
  PayloadType,
} from '../wire/index.js';
import type { StoredObject } from './object-server.js';

export const PoolOp = {
  Hello: 1,
  Welcome: 2,
  Submit: 3,
  Done: 4,
  Free: 5,
  PutLocation: 6,
  Pull: 7,
  Dispatch: 8,
  Complete: 9,
  Heartbeat: 10,
  WorkerExited: 11,
  Status: 12,
  StatusReply: 13,
  Shutdown: 14,
  Event: 15,
  SpmdPort: 16,
  Refused: 17,
  Goodbye: 18,
  Return: 19,
  /** Driver → head: stop an actor ({ id }). */
  ActorKill: 20,
  /** Driver → head: find a named actor ({ req, name }); answered by ActorInfo. */
  ActorLookup: 21,
  ActorInfo: 22,
  /** Head → worker: drop an actor's instance ({ id }). */
  ActorStop: 23,
  /** Admin → head: a job request ({ req, kind, ... }, src/pool/jobs/job-types.ts); answered by JobReply. */
  JobRequest: 24,
  JobReply: 25,
} as const;
export type PoolOp = (typeof PoolOp)[keyof typeof PoolOp];

/** Shape of an encoded object inside a message; its frames are blobs[first .. first + nframes). */
export interface BlobMeta {
  payloadType: PayloadType;
  dtype: DType;
  count: number;
  first: number;
  nframes: number;
}

/** Where an object's bytes can be fetched: an object server (worker or driver) of the cluster. */
export interface Location {
  /** Object-server endpoint over TCP, reachable from other hosts. */
  tcp: string;
  /** Same-host endpoint (ipc:// in a 0700 directory), used when host matches. */
  ipc?: string;
  host: string;
  /** Worker id at the head, or 0 for a driver. */
  workerId: number;
}

export function encodePool(op: PoolOp, body: unknown, blobs: Uint8Array[] = [], seq = 0): Uint8Array[] {
  const b = serialize(body);
  let bytes = b.byteLength;
  for (let i = 0; i < blobs.length; i++) bytes += blobs[i].byteLength;
  const h = makeHeader({
    kind: MessageKind.PoolControl,
    op,
    seq,
    payloadType: PayloadType.Bytes,
    payloadBytes: bytes,
    step: b.byteLength,
  });
  const frames: Uint8Array[] = [encodeHeader(h), b];
  for (let i = 0; i < blobs.length; i++) frames.push(blobs[i]);
  return frames;
}

export interface PoolMessage {
  op: PoolOp;
  seq: number;
  body: unknown;
  blobs: Uint8Array[];
}

/** Validates and splits a pool message; throws a WireError on anything malformed. */
export function decodePool(frames: Uint8Array[]): PoolMessage {
  const { header, payload } = decodeMessage(frames, DEFAULT_LIMITS);
  if (header.kind !== MessageKind.PoolControl || payload.length === 0) {
    throw new TypeError(`not a pool message (kind ${header.kind})`);
  }
  return {
    op: header.op as PoolOp,
    seq: header.seq,
    body: deserialize(payload[0]),
    blobs: payload.slice(1),
  };
}

/** Appends an encoded object's frames to blobs and returns its meta. */
export function pushBlob(
  blobs: Uint8Array[],
  p: { payloadType: PayloadType; dtype: DType; count: number; frames: Uint8Array[] },
): BlobMeta {
  const first = blobs.length;
  for (let i = 0; i < p.frames.length; i++) blobs.push(p.frames[i]);
  return { payloadType: p.payloadType, dtype: p.dtype, count: p.count, first, nframes: p.frames.length };
}

export function blobFrames(meta: BlobMeta, blobs: Uint8Array[]): Uint8Array[] {
  return blobs.slice(meta.first, meta.first + meta.nframes);
}

/** The object a blob reference of a message stands for (the inverse of pushBlob). */
export function storedFromBlobs(meta: BlobMeta, blobs: Uint8Array[]): StoredObject {
  return {
    payloadType: meta.payloadType,
    dtype: meta.dtype,
    count: meta.count,
    frames: blobFrames(meta, blobs),
  };
}

export function blobBytes(frames: Uint8Array[]): number {
  let n = 0;
  for (let i = 0; i < frames.length; i++) n += frames[i].byteLength;
  return n;
}
