/**
 * What pool processes put in their once-a-second heartbeat to the head when the head serves a dashboard
 * (its Welcome says `dashboard: true`): node agents sample their host, their workers (from /proc, so a
 * worker busy in a long synchronous task is still seen) and relay the workers' new output lines; drivers
 * report their own RSS and CPU. The heartbeat already exists, so no message or socket is added.
 */
import type { Readable } from 'node:stream';
import { type HostSample, HostSampler } from './host-sampler.js';
import { LogRing, RELAY_LINES } from './log-ring.js';

export interface ProcFeed {
  pid: number;
  rssBytes: number;
  cpuPercent: number;
  state: string;
}

export interface NodeFeedSample {
  host: HostSample;
  procs: ProcFeed[];
  /** New output lines per worker pid since the previous heartbeat. */
  logs: Record<number, string[]>;
}

export interface DriverFeedSample {
  proc: { rssBytes: number; cpuPercent: number };
}

/** Heartbeat field that carries a feed sample (next to the node's own memory fields). */
export const FEED_KEY = 'dashboard';
/** Key of a worker's object store figures (SpillStore.summary()) in its heartbeat body. */
export const STORE_FEED_KEY = 'objectStore';

export class NodeFeed {
  private readonly sampler = new HostSampler();
  private readonly rings = new Map<number, LogRing>();

  /** Keeps a worker's output for relaying; the caller still forwards the streams where they went before. */
  follow(pid: number, stdout: Readable | null, stderr: Readable | null): void {
    const ring = new LogRing(RELAY_LINES);
    ring.follow(stdout);
    ring.follow(stderr);
    this.rings.set(pid, ring);
  }

  sample(pids: number[]): NodeFeedSample {
    const logs: Record<number, string[]> = {};
    for (const [pid, ring] of this.rings) {
      const live = pids.includes(pid);
      const lines = ring.relayNew(!live);
      if (lines.length > 0) logs[pid] = lines;
      if (!live) this.rings.delete(pid);
    }
    const procs = pids.map((pid) => {
      const p = this.sampler.proc(pid);
      return { pid, rssBytes: p.rssBytes, cpuPercent: p.cpuPercent, state: p.alive ? 'running' : 'exited' };
    });
    return { host: this.sampler.host(), procs, logs };
  }
}

/** A driver's own figures, CPU over the time since the previous call. */
export function driverSampler(): () => DriverFeedSample {
  let prev = { cpu: process.cpuUsage(), at: performance.now() };
  return () => {
    const cpu = process.cpuUsage();
    const at = performance.now();
    const usedUs = cpu.user - prev.cpu.user + (cpu.system - prev.cpu.system);
    const cpuPercent = at > prev.at ? (100 * usedUs) / 1000 / (at - prev.at) : 0;
    prev = { cpu, at };
    return { proc: { rssBytes: process.memoryUsage.rss(), cpuPercent } };
  };
}
