import {
  CollectiveMismatchError,
  CollectiveTimeoutError,
  GroupClosedError,
  PeerLostError,
  TsrunError,
} from '../src/errors.js';

/** The plain-object form of a group failure, sent in Abort messages so every rank fails the same way. */
export interface ErrorRecord {
  name: string;
  message: string;
  lostRank?: number;
  call?: string;
  timeoutMs?: number;
  waitingFor?: number[];
  diagnosis?: string;
  calls?: { rank: number; call: string }[];
}

export function errorToRecord(e: Error): ErrorRecord {
  const r: ErrorRecord = { name: e.name, message: e.message };
  if (e instanceof PeerLostError) r.lostRank = e.lostRank;
  if (e instanceof CollectiveTimeoutError) {
    r.call = e.call;
    r.timeoutMs = e.timeoutMs;
    r.waitingFor = e.waitingFor;
    r.diagnosis = e.diagnosis;
  }
  if (e instanceof CollectiveMismatchError) r.calls = e.calls;
  return r;
}

export function errorFromRecord(r: ErrorRecord, fromRank: number): Error {
  let e: Error;
  switch (r.name) {
    case 'PeerLostError':
      e = new PeerLostError(r.lostRank ?? -1);
      break;
    case 'CollectiveTimeoutError':
      e = new CollectiveTimeoutError(
        r.call ?? 'collective',
        r.timeoutMs ?? 0,
        r.waitingFor ?? [],
        r.diagnosis,
      );
      break;
    case 'CollectiveMismatchError':
      e = new CollectiveMismatchError(r.calls ?? []);
      break;
    case 'GroupClosedError':
      e = new GroupClosedError(r.message);
      break;
    default:
      e = new TsrunError(r.message);
  }
  e.message = `${r.message} [reported by rank ${fromRank}]`;
  return e;
}
