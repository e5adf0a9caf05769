/**
 * Samples this host once a second: host CPU and memory, and CPU / RSS of the given processes. CPU
 * percentages are over the time since the previous sample (100% = one core busy for a process, all cores
 * busy for the host, as `top` shows them).
 */
import { type HostCpuReading, hostCpuPercent, readHostCpu, readHostMemory, readProc } from './proc-stats.js';

export interface ProcSample {
  alive: boolean;
  rssBytes: number;
  cpuPercent: number;
  kernelState: string;
}

export interface HostSample {
  cpuPercent: number;
  memUsedBytes: number;
  memTotalBytes: number;
}

export class HostSampler {
  private prevHost?: HostCpuReading;
  private readonly prevProc = new Map<number, { cpuSeconds: number; at: number }>();

  host(): HostSample {
    const now = readHostCpu();
    const cpuPercent = now && this.prevHost ? hostCpuPercent(this.prevHost, now) : 0;
    if (now) this.prevHost = now;
    return { cpuPercent, ...readHostMemory() };
  }

  proc(pid: number): ProcSample {
    const r = readProc(pid);
    // A zombie has exited; its parent just has not reaped it yet.
    if (!r || r.state === 'Z') {
      this.prevProc.delete(pid);
      return { alive: false, rssBytes: 0, cpuPercent: 0, kernelState: r?.state ?? 'gone' };
    }
    const at = performance.now() / 1000;
    const prev = this.prevProc.get(pid);
    this.prevProc.set(pid, { cpuSeconds: r.cpuSeconds, at });
    const cpuPercent = prev && at > prev.at ? (100 * (r.cpuSeconds - prev.cpuSeconds)) / (at - prev.at) : 0;
    return { alive: true, rssBytes: r.rssBytes, cpuPercent, kernelState: r.state };
  }
}
