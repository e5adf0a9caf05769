/**
 * One entry of a rank's flight recorder (collectives/flight-recorder.ts): what the errors carry in
 * `.recent`, what `--dump-on-failure` writes and what tsrun's root-cause block prints. Plain data, so it
 * travels as JSON between ranks, agents and the launcher.
 */
export interface FlightRecord {
  /** The call's sequence number in its group (the `#n` of error messages). */
  seq: number;
  /** Process group id (0 = the world) and the world ranks of its members. */
  group: number;
  groupSize: number;
  op: string;
  dtype?: string;
  length: number;
  root?: number;
  redop?: string;
  /** Algorithm the call chose, when the collective picks one by size. */
  algorithm?: string;
  /** Payload bytes this rank sent in the call. */
  bytes: number;
  /** Wall-clock start (ms since the epoch) and duration so far or in total. */
  startedAt: number;
  durationMs: number;
  /** `waiting`: still running when recorded; `waitingFor` then names the world ranks it awaits. */
  state: 'done' | 'failed' | 'waiting';
  waitingFor: number[];
  /** The failure that ended the call (state `failed`). */
  error?: string;
}

/** What a rank writes to TSRUN_FLIGHT_DIR/rank-<r>.json when one of its groups fails. */
export interface FlightDump {
  rank: number;
  host: string;
  pid: number;
  /** The failure that broke the group, as `Name: message`. */
  error: string;
  writtenAt: number;
  calls: FlightRecord[];
}

/** One line per call, e.g. `#12 allReduce(Float32, length 8, op 'sum') ring 32 B 1.2 ms done`. */
export function describeRecord(r: FlightRecord): string {
  const args = [r.dtype, r.length > 0 ? `length ${r.length}` : undefined, r.redop && `op '${r.redop}'`]
    .concat(r.root !== undefined ? [`root ${r.root}`] : [])
    .filter(Boolean)
    .join(', ');
  const where = r.group === 0 ? '' : ` [group ${r.group.toString(16)}]`;
  const state =
    r.state === 'waiting'
      ? r.waitingFor.length > 0
        ? `WAITING for rank${r.waitingFor.length > 1 ? 's' : ''} ${r.waitingFor.join(', ')}`
        : 'RUNNING (not waiting on a peer)'
      : r.state === 'failed'
        ? `FAILED${r.waitingFor.length ? ` waiting for ${r.waitingFor.join(', ')}` : ''}`
        : 'done';
  const algo = r.algorithm ? ` ${r.algorithm}` : '';
  return `#${r.seq}${where} ${r.op}(${args})${algo} ${r.bytes} B ${r.durationMs.toFixed(1)} ms ${state}`;
}
