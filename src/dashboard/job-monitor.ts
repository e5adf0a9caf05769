/**
 * What the launcher knows about its job, for the dashboard: each rank's pid, state and exit, its recent
 * output, the totals its process reports over the IPC channel, and once a second a sample of the host and
 * of every rank process. Only this host's ranks are seen: the launcher uses it in local and per-node mode,
 * and each SSH agent uses one for its host (agent-relay.ts), whose samples the launcher merges.
 */
import type { ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { HostSampler } from '../telemetry/host-sampler.js';
import { LogRing } from '../telemetry/log-ring.js';
import type {
  DashboardState,
  NodeInfo,
  ProcessRole,
  RankInfo,
  RankReport,
} from '../telemetry/state-types.js';
import { isRankReport } from '../telemetry/state-types.js';
import { SampledSource } from './sampled-source.js';
import { sumReports } from './state-summary.js';

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

export class JobMonitor extends SampledSource {
  private readonly ranks = new Map<number, RankRec>();
  private readonly sampler = new HostSampler();
  private node: NodeInfo;

  /**
   * pool: rank 0 is the driver (and serves the head), the other ranks are workers. host: the name shown
   * for this host (an SSH agent uses the hostfile's name, since namespaces share one hostname).
   */
  constructor(
    private readonly pool: boolean,
    readonly host = hostname(),
  ) {
    super();
    this.node = { host, cpuPercent: 0, memUsedBytes: 0, memTotalBytes: 0, processes: [] };
  }

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
      this.pushNow();
    });
  }

  protected override refresh(): void {
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
  }

  state(): DashboardState {
    const ranks = [...this.ranks.values()].sort((a, b) => a.info.rank - b.info.rank);
    const { tasks, collectives } = sumReports(ranks.map((r) => r.report));
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

  logs(rank: number, tail: number): string[] | undefined {
    return this.ranks.get(rank)?.logs.tail(tail);
  }

  /** Each rank's latest report, for an SSH agent to relay. */
  reports(): Record<number, RankReport> {
    const out: Record<number, RankReport> = {};
    for (const [rank, r] of this.ranks) if (r.report) out[rank] = r.report;
    return out;
  }

  /** Each rank's lines since the last call (an SSH agent relays them; `final` also ends partial lines). */
  drainLogs(final = false): Record<number, string[]> {
    const out: Record<number, string[]> = {};
    for (const [rank, r] of this.ranks) {
      const lines = r.logs.relayNew(final, ` of rank ${rank}`);
      if (lines.length > 0) out[rank] = lines;
    }
    return out;
  }
}
