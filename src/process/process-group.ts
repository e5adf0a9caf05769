/**
 * Children in their own process groups. A child started with `detached` leads a new group, so one signal
 * to the group stops it and whatever it spawned (a launcher and its ranks, a rank and its helpers), and a
 * Ctrl-C on the terminal reaches only the parent, which then stops its children in order.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';

/** Starts `cmd args` as the leader of a new process group. */
export function spawnInGroup(
  cmd: string,
  args: string[],
  opts: Omit<SpawnOptions, 'detached'>,
): ChildProcess {
  return spawn(cmd, args, { ...opts, detached: true });
}

/** Signals the group led by `pid`; false when the group is already empty. */
export function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Signals the child's group, or the child alone when it leads none (it was not spawned detached). */
export function signalGroup(proc: ChildProcess, signal: NodeJS.Signals): void {
  if (proc.pid === undefined) return;
  if (killGroup(proc.pid, signal)) return;
  try {
    proc.kill(signal);
  } catch {}
}

/**
 * Stops the children's groups: `signal` now, SIGKILL to the groups still alive after `graceMs`, and once
 * `gone` resolves (every child has exited) SIGKILL again to sweep grandchildren that ignored the first
 * signal after their leader died.
 */
export async function stopGroups(
  procs: readonly ChildProcess[],
  signal: NodeJS.Signals,
  graceMs: number,
  gone: Promise<unknown>,
): Promise<void> {
  for (const p of procs) signalGroup(p, signal);
  const timer = setTimeout(() => {
    for (const p of procs) signalGroup(p, 'SIGKILL');
  }, graceMs);
  timer.unref();
  await gone;
  clearTimeout(timer);
  for (const p of procs) if (p.pid !== undefined) killGroup(p.pid, 'SIGKILL');
}
