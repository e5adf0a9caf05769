/**
 * The collectives' part of the timeline: a slice per finished call (name, bytes sent, algorithm, group,
 * sequence number, state) on this rank's track, an instant event when a call fails, and the clock offset
 * to rank 0 measured over the rendezvous store. Nothing is installed unless tracing is on.
 */
import type { StoreClient } from '../src/rendezvous/store-client.js';
import { estimateClockOffset } from '../src/trace/clock-sync.js';
import {
  type Materialize,
  nowUs,
  setClockOffset,
  setTraceThread,
  traceDeferred,
  tracing,
} from '../src/trace/recorder.js';
import type { TraceEvent } from '../src/trace/trace-types.js';
import { DType, dtypeName, RedOp, redOpName } from '../src/wire/index.js';
import { type Fingerprint, opName } from './fingerprint.js';
import { onCallEnd } from './flight-recorder.js';

let installed = false;

/** Starts tracing this rank's collective calls (once per process; a no-op when tracing is off). */
export function traceCollectives(worldRank: number): void {
  if (!tracing || installed) return;
  installed = true;
  setTraceThread(`rank ${worldRank}`, worldRank);
  onCallEnd((e, error) => {
    const c = e.call;
    const d: CallRun = {
      fp: c.fp,
      seq: c.seq,
      group: e.group,
      bytes: c.bytesSent,
      algorithm: c.algorithm,
      error: error && `${error.name}\u0000${error.message}`,
    };
    traceDeferred(callEvents, d, e.startMono, e.endMono ?? performance.now());
  });
}

interface CallRun {
  fp: Fingerprint;
  seq: number;
  group: number;
  bytes: number;
  algorithm: string | undefined;
  /** `name NUL message` of the failure that ended the call. */
  error: string | undefined;
}

const callEvents: Materialize<CallRun> = (c, ts, end) => {
  const op = opName(c.fp.op);
  const args: Record<string, unknown> = {
    seq: c.seq,
    group: c.group,
    bytes: c.bytes,
    algorithm: c.algorithm ?? '',
  };
  if (c.fp.dtype !== DType.None) Object.assign(args, { dtype: dtypeName(c.fp.dtype), length: c.fp.count });
  if (c.fp.redop !== RedOp.None) args.op = redOpName(c.fp.redop as RedOp);
  args.state = c.error ? 'failed' : 'done';
  const out: TraceEvent[] = [{ name: op, cat: 'collective', ph: 'X', ts, dur: end - ts, args }];
  if (c.error) {
    const [name, message] = c.error.split('\u0000');
    out.push({ name, cat: 'failure', ph: 'i', s: 't', ts: end, args: { call: `${op} #${c.seq}`, message } });
  }
  return out;
};

/**
 * Aligns this rank's trace clock with rank 0's (whose host serves the store). Ranks of rank 0's node
 * (ranks are node-major, so rank - localRank = 0) share its clock and skip the exchange.
 */
export async function alignTraceClock(
  store: StoreClient,
  worldRank: number,
  localRank: number,
): Promise<void> {
  if (!tracing || worldRank - localRank === 0) return;
  const est = await estimateClockOffset(() => store.time(10_000), nowUs);
  setClockOffset(est.offsetUs, est.rttUs);
}
