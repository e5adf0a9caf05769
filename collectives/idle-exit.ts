/**
 * torchrun users rarely call destroy_process_group(), and Node cannot exit while ZeroMQ sockets poll.
 * This watcher notices when the program seems to have nothing left to do — no collective or receive in
 * flight and no resource beyond those present when init() returned keeping the event loop alive.
 *
 * Native async work (sharp's decoding, other addons' thread-pool jobs) is invisible to that check, so
 * "seems idle" can be wrong while such work runs; acting on it (a destroy, whose barrier the other ranks
 * would see as a mismatched collective) broke a real training run. By default the watcher therefore only
 * prints a one-time hint after 10 s; TSRUN_AUTO_DESTROY=1 makes it destroy the groups after 1 s instead,
 * for scripts known to use no native async work.
 */
import type { CollectivesConfig } from './collectives-config.js';

let inFlight = 0;
let baseline: Map<string, number> | undefined;
let timer: NodeJS.Timeout | undefined;

/** Marks the start/end of anything the user awaits on a group (collectives, recv). */
export function enterCall(): void {
  inFlight += 1;
}
export function leaveCall(): void {
  inFlight -= 1;
}

function counts(): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) m.set(r, (m.get(r) ?? 0) + 1);
  return m;
}

function idle(): boolean {
  if (inFlight > 0 || !baseline) return false;
  for (const [k, n] of counts()) if (n > (baseline.get(k) ?? 0)) return false;
  return true;
}

const HINT_AFTER_CHECKS = 100;
const DESTROY_AFTER_CHECKS = 10;

/** Starts watching (once per process); see the module comment for what happens on idleness. */
export function watchForIdleExit(
  destroy: () => Promise<void>,
  rank: number,
  mode: CollectivesConfig['autoDestroy'],
): void {
  if (timer || mode === 'off') return;
  const autoDestroy = mode === 'destroy';
  baseline = counts();
  let idleChecks = 0;
  let hinted = false;
  timer = setInterval(() => {
    idleChecks = idle() ? idleChecks + 1 : 0;
    if (autoDestroy && idleChecks >= DESTROY_AFTER_CHECKS) {
      stopWatching();
      void destroy().catch(() => {});
    } else if (!autoDestroy && !hinted && idleChecks >= HINT_AFTER_CHECKS) {
      hinted = true;
      process.stderr.write(
        `tsrun: rank ${rank} looks finished but its process group is still open, which keeps the process ` +
          'alive: end the script with `await pg.destroy()` (or set TSRUN_AUTO_DESTROY=1)\n',
      );
    }
  }, 100);
  timer.unref();
}

export function stopWatching(): void {
  if (timer) clearInterval(timer);
  timer = undefined;
}
