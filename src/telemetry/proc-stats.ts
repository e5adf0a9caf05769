/**
 * CPU and memory figures from Linux /proc: the host's (from /proc/stat and /proc/meminfo) and one
 * process's (from /proc/<pid>/stat). CPU percentages are deltas between two readings, so a sampler keeps
 * the previous reading per host and per pid. Off Linux the readers return undefined and the dashboard shows
 * memory from os.totalmem()/os.freemem() and no CPU figure.
 */
import { readFileSync } from 'node:fs';
import { freemem, totalmem } from 'node:os';

/** Clock ticks per second of /proc times; 100 on every Linux the project runs on. */
const TICKS_PER_SECOND = 100;

export interface HostCpuReading {
  busy: number;
  total: number;
}

/** Parses the first (aggregate) `cpu` line of /proc/stat. */
export function parseHostCpu(stat: string): HostCpuReading | undefined {
  const line = stat.slice(0, stat.indexOf('\n'));
  if (!line.startsWith('cpu ')) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
  const total = f.slice(0, 8).reduce((s, v) => s + v, 0);
  const idle = f[3] + (f[4] ?? 0);
  return { busy: total - idle, total };
}

export function hostCpuPercent(prev: HostCpuReading, now: HostCpuReading): number {
  const dt = now.total - prev.total;
  return dt > 0 ? (100 * (now.busy - prev.busy)) / dt : 0;
}

/** Used memory as `free` counts it: total minus MemAvailable. */
export function parseMeminfo(text: string): { memTotalBytes: number; memUsedBytes: number } | undefined {
  const kb = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = kb('MemTotal');
  const avail = kb('MemAvailable');
  if (total === undefined || avail === undefined) return undefined;
  return { memTotalBytes: total, memUsedBytes: total - avail };
}

export interface ProcReading {
  cpuSeconds: number;
  rssBytes: number;
  /** The kernel's one-letter state: R running, S sleeping, Z zombie, ... */
  state: string;
}

/** Parses /proc/<pid>/stat; the command name may hold spaces and parentheses, so split after the last ')'. */
export function parseProcStat(stat: string, pageSize = 4096): ProcReading | undefined {
  const close = stat.lastIndexOf(')');
  if (close === -1) return undefined;
  const f = stat
    .slice(close + 2)
    .trim()
    .split(' ');
  // Fields after the name, 0-based: 0 state, 11 utime, 12 stime, 21 rss (pages).
  const utime = Number(f[11]);
  const stime = Number(f[12]);
  const rss = Number(f[21]);
  if (!Number.isFinite(utime) || !Number.isFinite(rss)) return undefined;
  return { state: f[0], cpuSeconds: (utime + stime) / TICKS_PER_SECOND, rssBytes: rss * pageSize };
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export function readHostCpu(): HostCpuReading | undefined {
  const t = readText('/proc/stat');
  return t === undefined ? undefined : parseHostCpu(t);
}

export function readHostMemory(): { memTotalBytes: number; memUsedBytes: number } {
  const t = readText('/proc/meminfo');
  const m = t === undefined ? undefined : parseMeminfo(t);
  return m ?? { memTotalBytes: totalmem(), memUsedBytes: totalmem() - freemem() };
}

export function readProc(pid: number): ProcReading | undefined {
  const t = readText(`/proc/${pid}/stat`);
  return t === undefined ? undefined : parseProcStat(t);
}
