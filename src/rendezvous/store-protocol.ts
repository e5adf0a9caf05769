import { decodePayload, encodeHeader, encodePayload, MessageKind, makeHeader } from '../wire/index.js';

/**
 * Operations of the rendezvous key-value store (as torch's TCPStore: set, blocking get, atomic add), and
 * Claim: set only if absent, answering whether it was set (a rank registers once, never twice), and Time:
 * the store's clock, for the NTP-style offset estimate that aligns trace timelines.
 */
export const StoreOp = { Set: 1, Get: 2, Add: 3, Check: 4, Ping: 5, Claim: 6, Time: 7 } as const;
export type StoreOp = (typeof StoreOp)[keyof typeof StoreOp];

export interface StoreRequest {
  key: string;
  value?: unknown;
  delta?: number;
  keys?: string[];
}

export function encodeRequest(op: StoreOp, id: number, body: StoreRequest): Uint8Array[] {
  const p = encodePayload(body);
  const h = makeHeader({ kind: MessageKind.RendezvousRequest, op, seq: id, payloadType: p.payloadType });
  h.payloadBytes = p.frames.reduce((n, f) => n + f.byteLength, 0);
  h.totalBytes = h.payloadBytes;
  h.count = p.count;
  h.dtype = p.dtype;
  return [encodeHeader(h), ...p.frames];
}

export function encodeReply(id: number, body: unknown, op: number): Uint8Array[] {
  const p = encodePayload(body);
  const h = makeHeader({ kind: MessageKind.RendezvousReply, op, seq: id, payloadType: p.payloadType });
  h.payloadBytes = p.frames.reduce((n, f) => n + f.byteLength, 0);
  h.totalBytes = h.payloadBytes;
  h.count = p.count;
  h.dtype = p.dtype;
  return [encodeHeader(h), ...p.frames];
}

export { decodePayload };
