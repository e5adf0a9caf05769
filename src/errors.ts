import type { FlightRecord } from './flight-record.js';

/**
 * Error classes users catch. Messages say what happened and what to do; wording lives here so it stays
 * consistent and greppable (as piscina's errors.ts).
 */
export class TsrunError extends Error {
  override name = 'TsrunError';
  /**
   * A stable identifier of the kind of failure, e.g. `ERR_TSRUN_PEER_LOST`: what code should branch on
   * (messages are for people and may be reworded). Derived from the class name unless a subclass sets it.
   */
  readonly code: string;
  constructor(message?: string, options?: ErrorOptions & { code?: string }) {
    super(message, options);
    this.code = options?.code ?? errorCode(new.target.name);
  }
}

/** `PeerLostError` → `ERR_TSRUN_PEER_LOST`. */
export function errorCode(className: string): string {
  const words = className.replace(/Error$/, '').replace(/([a-z0-9])([A-Z])/g, '$1_$2');
  return `ERR_TSRUN_${words.toUpperCase()}`;
}

/** A peer of the group died or its connection closed. */
export class PeerLostError extends TsrunError {
  override name = 'PeerLostError';
  /** This rank's last collective calls when the failure happened, oldest first (its flight recorder). */
  declare recent?: readonly FlightRecord[];
  constructor(
    readonly lostRank: number,
    detail = '',
  ) {
    super(
      `peer rank ${lostRank} was lost (its process exited or its connection closed)${detail ? `: ${detail}` : ''}`,
    );
  }
}

/** A collective did not complete within its timeout. */
export class CollectiveTimeoutError extends TsrunError {
  override name = 'CollectiveTimeoutError';
  /** This rank's last collective calls when the failure happened, oldest first (its flight recorder). */
  declare recent?: readonly FlightRecord[];
  constructor(
    readonly call: string,
    readonly timeoutMs: number,
    readonly waitingFor: number[],
    /** Why those ranks are blamed, e.g. "rank 2 never called it". */
    readonly diagnosis = '',
  ) {
    super(
      `${call} timed out after ${timeoutMs} ms` +
        (diagnosis
          ? `: ${diagnosis}`
          : waitingFor.length > 0
            ? ` waiting for rank${waitingFor.length > 1 ? 's' : ''} ${waitingFor.join(', ')} (hung, paused or never called it)`
            : ''),
    );
  }
}

/** The ranks of a group called different collectives (or the same one with incompatible arguments). */
export class CollectiveMismatchError extends TsrunError {
  override name = 'CollectiveMismatchError';
  /** This rank's last collective calls when the failure happened, oldest first (its flight recorder). */
  declare recent?: readonly FlightRecord[];
  constructor(
    readonly calls: { rank: number; call: string }[],
    detail = '',
  ) {
    super(
      `collective mismatch: ${calls.map((c) => `rank ${c.rank} called ${c.call}`).join('; ')}` +
        (detail ? ` (${detail})` : '') +
        '. Every rank of a group must call the same collectives in the same order with matching dtype/length.',
    );
  }
}

/** The rendezvous did not complete: some ranks never registered, or the store could not be served. */
export class RendezvousError extends TsrunError {
  override name = 'RendezvousError';
}

/** The environment does not describe a valid rank (missing or inconsistent variables). */
export class EnvironmentError extends TsrunError {
  override name = 'EnvironmentError';
}

/** A TSRUN_* variable holds a value that does not parse (the message names the variable and the value). */
export class ConfigError extends TsrunError {
  override name = 'ConfigError';
}

/** The group was destroyed or aborted; further calls are refused. */
export class GroupClosedError extends TsrunError {
  override name = 'GroupClosedError';
}
