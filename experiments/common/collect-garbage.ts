/**
 * A full garbage collection on request. Experiments drop typed arrays of hundreds of MB between
 * phases (an edge list once its CSR is built); V8 reclaims their memory only at its next major GC,
 * which its heuristics may put after the next phase has allocated as much again, so the process's
 * peak RSS is the sum of both. Collecting between phases keeps the peak at the larger phase.
 * `gc` is exposed by setting the flag at run time (the process was not started with --expose-gc).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

export function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}
