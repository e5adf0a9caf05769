/**
 * The collectives' part of the timeline: a slice per finished call (name, bytes sent, algorithm, group,
 * sequence number, state) on this rank's track, an instant event when a call fails, and the clock offset
 * to rank 0 measured over the rendezvous store. Nothing is installed unless tracing is on.
 */
import type { StoreClient } from '../src/rendezvous/store-client.js';
import { estimateClockOffset } from '../src/trace/clock-sync.js';
import {
  nowUs,
  setClockOffset,
  setTraceThread,
  traceInstant,
  traceSlice,
  tracing,
} from '../src/trace/recorder.js';
import { onCallEnd } from './flight-recorder.js';

let installed = false;

/** Starts tracing this rank's collective calls (once per process; a no-op when tracing is off). */
export function traceCollectives(worldRank: number): void {
  if (!tracing || installed) return;
  installed = true;
  setTraceThread(`rank ${worldRank}`, worldRank);
  onCallEnd((e, error) => {
    const r = e.toRecord();
    traceSlice(r.op, 'collective', e.startMono, e.endMono ?? performance.now(), {
      seq: r.seq,
      group: r.group,
      bytes: r.bytes,
      algorithm: r.algorithm ?? '',
      ...(r.dtype && { dtype: r.dtype, length: r.length }),
      ...(r.root !== undefined && { root: r.root }),
      ...(r.redop && { op: r.redop }),
      state: r.state,
    });
    if (error)
      traceInstant(`${error.name}`, 'failure', { call: `${r.op} #${r.seq}`, message: error.message });
  });
}

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
