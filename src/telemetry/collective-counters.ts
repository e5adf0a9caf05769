/**
 * Per-process totals of collective calls, kept by collectives/group-core.ts on every call and read once a
 * second by the rank reporter. Three slots of one preallocated array, so counting costs two additions and
 * a clock read per call and allocates nothing (the dashboard's overhead budget is < 3%).
 */
export const OPS = 0;
export const BYTES = 1;
export const SECONDS = 2;

export const collectiveCounters = new Float64Array(3);

export interface CollectiveTotals {
  ops: number;
  bytes: number;
  secondsInCollectives: number;
}

export function readCollectiveCounters(): CollectiveTotals {
  return {
    ops: collectiveCounters[OPS],
    bytes: collectiveCounters[BYTES],
    secondsInCollectives: collectiveCounters[SECONDS],
  };
}
