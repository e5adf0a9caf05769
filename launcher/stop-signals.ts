/**
 * Ctrl-C / SIGTERM / SIGHUP to tsrun stop the whole job in order (TERM, grace, KILL). A second Ctrl-C
 * while stopping escalates to SIGKILL, as users expect from torchrun.
 */
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export function onStopSignal(stop: (signal: NodeJS.Signals, repeated: boolean) => void): () => void {
  let seen = false;
  const handler = (signal: NodeJS.Signals) => {
    stop(signal, seen);
    seen = true;
  };
  for (const s of SIGNALS) process.on(s, handler);
  return () => {
    for (const s of SIGNALS) process.off(s, handler);
  };
}

export function signalExitStatus(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 130 : signal === 'SIGHUP' ? 129 : 143;
}
