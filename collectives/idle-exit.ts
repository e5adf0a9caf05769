/**
 * torchrun users rarely call destroy_process_group(), and Node cannot exit while ZeroMQ sockets poll.
 * This watcher notices when the program has nothing left to do — no collective or receive in flight and
 * no resource beyond those present when init() returned (stdio pipes) keeping the event loop alive — and
 * then destroys the process's groups, so a script that simply ends, ends (as it would without tsrun).
 * Set TSRUN_AUTO_DESTROY=0 to turn it off.
 */
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

/** Starts watching (once per process); `destroy` is called after two idle checks in a row. */
export function watchForIdleExit(destroy: () => Promise<void>): void {
  if (timer || process.env.TSRUN_AUTO_DESTROY === '0') return;
  baseline = counts();
  let idleChecks = 0;
  timer = setInterval(() => {
    idleChecks = idle() ? idleChecks + 1 : 0;
    if (idleChecks >= 2) {
      stopWatching();
      void destroy().catch(() => {});
    }
  }, 100);
  timer.unref();
}

export function stopWatching(): void {
  if (timer) clearInterval(timer);
  timer = undefined;
}
