/**
 * Children in their own process groups. A child started with `detached` leads a new group, so one signal
 * to the group stops it and whatever it spawned (a launcher and its ranks, a rank and its helpers), and a
 * Ctrl-C on the terminal reaches only the parent, which then stops its children in order.
 *
 * A `tsrun job` driver's group is watched and stopped by its pgid alone: its live members are read from
 * /proc, because a member whose parent exited may sit as a zombie that no one reaps in a container, and
 * kill(0) counts zombies.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

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

/** Pids of the group's members that are not zombies. Without /proc, kill(-pgid, 0) decides. */
export function groupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch {
      return [];
    }
  }
  const out: number[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${e}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // Fields after the command name (which may hold spaces and parentheses): state ppid pgrp ...
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(f[2]) === pgid && f[0] !== 'Z') out.push(Number(e));
  }
  return out;
}

function signalPgid(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is already gone
  }
}

async function waitEmpty(pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (groupMembers(pgid).length === 0) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * SIGTERM to every member, SIGKILL to the group after graceMs; resolves once no member is left (or
 * after a further 5 s, with the pids still there, for processes stuck in the kernel).
 */
export async function stopGroup(pgid: number, graceMs: number): Promise<number[]> {
  signalPgid(pgid, 'SIGTERM');
  if (await waitEmpty(pgid, graceMs)) return [];
  signalPgid(pgid, 'SIGKILL');
  await waitEmpty(pgid, 5000);
  return groupMembers(pgid);
}
