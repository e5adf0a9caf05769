/**
 * Each process's flight recorder: its last 32 collective calls, over all its groups (sequence number,
 * op, dtype, length, root, algorithm, bytes, start, duration, state, and while a call runs which ranks it
 * waits for). Group failures copy it into the error's `.recent` and, with TSRUN_FLIGHT_DIR set, write it
 * to DIR/rank-<r>.json, which tsrun reads for its root-cause block. Finished calls are also handed to the
 * timeline (collectives/call-trace.ts) when tracing is on.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Env } from '../src/env-fields.js';
import type { FlightDump, FlightRecord } from '../src/flight-record.js';
import { DType, dtypeName, RedOp, redOpName } from '../src/wire/index.js';
import type { CallState } from './call-state.js';
import { COLLECTIVES_ENV } from './collectives-config.js';
import { opName } from './fingerprint.js';

export const FLIGHT_CAPACITY = 32;

const ROOTED_NAMES = new Set([
  'broadcast',
  'gather',
  'scatter',
  'reduce',
  'broadcastObject',
  'gatherObject',
  'scatterObject',
]);

/** A call being recorded; group-core updates it as the call runs. */
export class FlightEntry {
  readonly startedAt = Date.now();
  /** performance.now() at start, for durations and the timeline. */
  readonly startMono = performance.now();
  endMono: number | undefined;
  state: FlightRecord['state'] = 'waiting';
  error: string | undefined;
  failedWaitingFor: number[] = [];

  constructor(
    readonly group: number,
    readonly members: readonly number[],
    readonly call: CallState,
  ) {}

  private waitingNow(): number[] {
    return [...this.call.waitingOn.keys()].map((r) => this.members[r]).sort((a, b) => a - b);
  }

  toRecord(now = performance.now()): FlightRecord {
    const fp = this.call.fp;
    const op = opName(fp.op);
    return {
      seq: this.call.seq,
      group: this.group,
      groupSize: this.members.length,
      op,
      ...(fp.dtype !== DType.None && { dtype: dtypeName(fp.dtype) }),
      length: fp.count,
      ...(ROOTED_NAMES.has(op) && { root: fp.root }),
      ...(fp.redop !== RedOp.None && { redop: redOpName(fp.redop as RedOp) }),
      ...(this.call.algorithm && { algorithm: this.call.algorithm }),
      bytes: this.call.bytesSent,
      startedAt: this.startedAt,
      durationMs: (this.endMono ?? now) - this.startMono,
      state: this.state,
      waitingFor: this.state === 'waiting' ? this.waitingNow() : this.failedWaitingFor,
      ...(this.error && { error: this.error }),
    };
  }

  /** The call returned (error undefined) or failed. */
  end(error?: Error): void {
    if (this.endMono !== undefined) return;
    this.endMono = performance.now();
    if (error) {
      this.failedWaitingFor = this.waitingNow();
      this.state = 'failed';
      this.error = `${error.name}: ${error.message}`;
    } else this.state = 'done';
    for (const l of endListeners) l(this, error);
  }
}

const ring: FlightEntry[] = [];
let next = 0;
const endListeners: Array<(e: FlightEntry, error?: Error) => void> = [];

/** Starts recording a call (evicting the oldest beyond FLIGHT_CAPACITY). */
export function recordCall(group: number, members: readonly number[], call: CallState): FlightEntry {
  const e = new FlightEntry(group, members, call);
  if (ring.length < FLIGHT_CAPACITY) ring.push(e);
  else ring[next] = e;
  next = (next + 1) % FLIGHT_CAPACITY;
  return e;
}

/** This process's recorded calls, oldest first, as plain records. */
export function recentCalls(): FlightRecord[] {
  const now = performance.now();
  const ordered = ring.length < FLIGHT_CAPACITY ? ring : [...ring.slice(next), ...ring.slice(0, next)];
  return ordered.map((e) => e.toRecord(now));
}

/** Runs fn whenever a recorded call ends (the timeline's hook). */
export function onCallEnd(fn: (e: FlightEntry, error?: Error) => void): () => void {
  endListeners.push(fn);
  return () => {
    const i = endListeners.indexOf(fn);
    if (i >= 0) endListeners.splice(i, 1);
  };
}

/** Gives a group failure this rank's recent calls, once (the first snapshot is the one at failure). */
export function attachRecent(e: Error): void {
  const err = e as Error & { recent?: readonly FlightRecord[] };
  if (err.recent === undefined && (e.name === 'PeerLostError' || e.name.startsWith('Collective'))) {
    // Not enumerable: an uncaught error's printout (and its stderr tail in the root-cause block) stays short.
    Object.defineProperty(err, 'recent', {
      value: recentCalls(),
      enumerable: false,
      configurable: true,
      writable: true,
    });
  }
}

/**
 * With TSRUN_FLIGHT_DIR set, writes this rank's record to DIR/rank-<r>.json (write, then rename, so a
 * reader never sees half a file). Synchronous: the process often exits right after a group fails.
 */
export function dumpFlight(worldRank: number, reason: Error, env: Env = process.env): string | undefined {
  const dir = COLLECTIVES_ENV.flightDir.read(env);
  if (!dir) return undefined;
  const dump: FlightDump = {
    rank: worldRank,
    host: hostname(),
    pid: process.pid,
    error: `${reason.name}: ${reason.message}`,
    writtenAt: Date.now(),
    calls: recentCalls(),
  };
  const file = join(dir, `rank-${worldRank}.json`);
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(dump, null, 1)}\n`);
    renameSync(tmp, file);
    return file;
  } catch (e) {
    process.stderr.write(`tsrun: could not write the flight record to ${file}: ${(e as Error).message}\n`);
    return undefined;
  }
}
