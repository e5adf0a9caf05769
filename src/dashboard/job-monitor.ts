/**
 * What the launcher knows about its job, for the dashboard: each rank's pid, state and exit, its recent
 * output, the totals its process reports over the IPC channel, and once a second a sample of the host and
 * of every rank process. Only this host's ranks are seen (local and per-node mode).
 */
import type { ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { History } from './history.js';
import { HostSampler } from './host-sampler.js';
import { LogRing } from './log-ring.js';
import type {
  DashboardState,
  HistorySample,
  NodeInfo,
  ProcessRole,
  RankInfo,
  RankReport,
} from './state-types.js';
import { isRankReport } from './state-types.js';
import type { TaskTotals } from './task-counters.js';

export const SAMPLE_EVERY_MS = 1000;

interface RankExitInfo {
  rank: number;
  code: number | null;
  signal: string | null;
}

interface RankRec {
  info: RankInfo;
  role: ProcessRole;
  logs: LogRing;
  report?: RankReport;
  rssBytes: number;
  cpuPercent: number;
}

/** The part of a running attempt the monitor follows (a NodeRun's job). */
export interface TrackedJob {
  readonly procs: ReadonlyArray<ChildProcess>;
  onRankExit(cb: (e: RankExitInfo) => void): void;
}

export function emptyTasks(): TaskTotals {
  return { queued: 0, running: 0, finished: 0, failed: 0, byFunction: {} };
}

export class JobMonitor {
  readonly host = hostname();
  private readonly ranks = new Map<number, RankRec>();
  private readonly sampler = new HostSampler();
  private readonly history = new History();
  private readonly listeners = new Set<(s: DashboardState, h: HistorySample) => void>();
  private node: NodeInfo = {
    host: this.host,
    cpuPercent: 0,
    memUsedBytes: 0,
    memTotalBytes: 0,
    processes: [],
  };
  private timer?: NodeJS.Timeout;
  private prevTotals?: { at: number; tasks: number; bytes: number };

  /** pool: rank 0 is the driver (and serves the head), the other ranks are workers. */
  constructor(private readonly pool: boolean) {}

  /** Follows one attempt's ranks; `ranks[i]` is the global rank of `job.procs[i]`. */
  track(job: TrackedJob, ranks: number[]): void {
    job.procs.forEach((p, i) => {
      const rank = ranks[i];
      const old = this.ranks.get(rank);
      const logs = old?.logs ?? new LogRing();
      const rec: RankRec = {
        info: { rank, host: this.host, pid: p.pid ?? 0, state: 'starting' },
        role: this.pool ? (rank === 0 ? 'driver' : 'worker') : 'rank',
        logs,
        rssBytes: 0,
        cpuPercent: 0,
      };
      this.ranks.set(rank, rec);
      logs.follow(p.stdout);
      logs.follow(p.stderr);
      p.on('message', (m: unknown) => {
        if (!isRankReport(m)) return;
        rec.report = m;
        if (rec.info.state === 'starting') rec.info.state = 'running';
      });
    });
    job.onRankExit((e) => {
      const rec = this.ranks.get(e.rank);
      if (!rec) return;
      const failed = e.code !== 0 || e.signal !== null;
      rec.info.state = failed ? 'failed' : 'exited';
      if (e.code !== null) rec.info.exitCode = e.code;
      if (e.signal) rec.info.signal = e.signal;
      rec.rssBytes = 0;
      rec.cpuPercent = 0;
      this.emit();
    });
  }

  start(): void {
    this.sample();
    this.timer ??= setInterval(() => this.sample(), SAMPLE_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Called with every new state (once a second, and when a rank exits). */
  subscribe(cb: (s: DashboardState, h: HistorySample) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  sample(): void {
    const host = this.sampler.host();
    for (const rec of this.ranks.values()) {
      if (rec.info.state !== 'starting' && rec.info.state !== 'running') continue;
      const p = this.sampler.proc(rec.info.pid);
      rec.rssBytes = p.rssBytes;
      rec.cpuPercent = p.cpuPercent;
      // Alive for a full second: past the start-up, whether or not it has reported yet.
      if (p.alive && rec.info.state === 'starting' && p.cpuPercent > 0) rec.info.state = 'running';
    }
    this.node = {
      host: this.host,
      ...host,
      processes: [...this.ranks.values()].map((r) => ({
        pid: r.info.pid,
        role: r.role,
        rank: r.info.rank,
        rssBytes: r.rssBytes,
        cpuPercent: r.cpuPercent,
        state: r.info.state,
      })),
    };
    const s = this.state();
    const at = performance.now() / 1000;
    const doneTasks = s.tasks.finished + s.tasks.failed;
    const prev = this.prevTotals;
    const dt = prev ? at - prev.at : 0;
    const h: HistorySample = {
      t: Date.now() / 1000,
      cpuPercent: host.cpuPercent,
      memUsedBytes: host.memUsedBytes,
      tasksPerSec: prev && dt > 0 ? Math.max(0, doneTasks - prev.tasks) / dt : 0,
      collectiveBytesPerSec: prev && dt > 0 ? Math.max(0, s.collectives.bytes - prev.bytes) / dt : 0,
    };
    this.prevTotals = { at, tasks: doneTasks, bytes: s.collectives.bytes };
    this.history.push(h);
    for (const cb of this.listeners) cb(s, h);
  }

  private emit(): void {
    const all = this.history.all();
    const last = all[all.length - 1];
    if (!last) return;
    const s = this.state();
    for (const cb of this.listeners) cb(s, last);
  }

  state(): DashboardState {
    const ranks = [...this.ranks.values()].sort((a, b) => a.info.rank - b.info.rank);
    const collectives = { ops: 0, bytes: 0, secondsInCollectives: 0 };
    let tasks = emptyTasks();
    for (const r of ranks) {
      const c = r.report?.collectives;
      if (c) {
        collectives.ops += c.ops;
        collectives.bytes += c.bytes;
        collectives.secondsInCollectives += c.secondsInCollectives;
      }
      if (r.report?.tasks) tasks = r.report.tasks;
    }
    const processes = this.node.processes.map((p) => {
      const r = this.ranks.get(p.rank ?? -1);
      return r ? { ...p, state: r.info.state } : p;
    });
    return {
      nodes: [{ ...this.node, processes }],
      ranks: ranks.map((r) => ({ ...r.info })),
      tasks,
      collectives,
    };
  }

  samples(): HistorySample[] {
    return this.history.all();
  }

  logs(rank: number, tail: number): string[] | undefined {
    return this.ranks.get(rank)?.logs.tail(tail);
  }
}
