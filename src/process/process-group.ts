/**
 * A process group as one thing to stop: its live members (read from /proc, because a member whose
 * parent exited may sit as a zombie that no one reaps in a container, and kill(0) counts zombies), and
 * SIGTERM to the whole group, then SIGKILL to whatever is left after a grace period.
 */
import { readdirSync, readFileSync } from 'node:fs';

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

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
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
  signalGroup(pgid, 'SIGTERM');
  if (await waitEmpty(pgid, graceMs)) return [];
  signalGroup(pgid, 'SIGKILL');
  await waitEmpty(pgid, 5000);
  return groupMembers(pgid);
}
