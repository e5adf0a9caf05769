/**
 * The launcher's view of an SSH job for the dashboard: every host's latest `dash` event from its agent
 * (host sample, rank processes, rank reports, new output lines), merged into one state, plus the ranks'
 * pids and exits from the agents' `started` and `exit` events, which arrive between samples. One chart
 * point a second, 15 minutes kept, as for a local job.
 */
import type { DashEvent } from '../process/agent-protocol.js';
import { LogRing } from '../telemetry/log-ring.js';
import type { DashboardState, NodeInfo, RankInfo, RankReport } from '../telemetry/state-types.js';
import { SampledSource } from './sampled-source.js';
import { sumReports } from './state-summary.js';

interface HostRec {
  host: string;
  node?: NodeInfo;
  reports: Record<number, RankReport>;
}

export class HostsMonitor extends SampledSource {
  /** One per agent, in hostfile order (a host listed twice runs two agents). */
  private readonly hosts: HostRec[];
  private readonly ranks = new Map<number, RankInfo>();
  private readonly rings = new Map<number, LogRing>();

  /** Hosts in hostfile order, so the page lists them as the user wrote them. */
  constructor(hostNames: string[]) {
    super();
    this.hosts = hostNames.map((host) => ({ host, reports: {} }));
  }

  /** Agent i started its ranks (a new attempt replaces the previous one's records). */
  started(i: number, rankOffset: number, pids: number[]): void {
    const rec = this.hosts[i];
    if (!rec) return;
    rec.reports = {};
    pids.forEach((pid, j) => {
      this.ranks.set(rankOffset + j, { rank: rankOffset + j, host: rec.host, pid, state: 'starting' });
    });
  }

  exited(e: { rank: number; code: number | null; signal: string | null }): void {
    const r = this.ranks.get(e.rank);
    if (!r) return;
    r.state = e.code !== 0 || e.signal !== null ? 'failed' : 'exited';
    if (e.code !== null) r.exitCode = e.code;
    if (e.signal) r.signal = e.signal;
  }

  dash(i: number, e: DashEvent): void {
    const rec = this.hosts[i];
    if (!rec) return;
    const host = rec.host;
    rec.node = { ...e.node, host };
    rec.reports = e.reports;
    for (const r of e.ranks) {
      const known = this.ranks.get(r.rank);
      // An exit seen first (its own control line) is final: a sample taken before it must not undo it.
      if (known && (known.state === 'exited' || known.state === 'failed') && known.pid === r.pid) continue;
      this.ranks.set(r.rank, { ...r, host });
    }
    for (const [rank, lines] of Object.entries(e.logs)) {
      let ring = this.rings.get(Number(rank));
      if (!ring) {
        ring = new LogRing();
        this.rings.set(Number(rank), ring);
      }
      ring.push(`${lines.join('\n')}\n`);
    }
  }

  state(): DashboardState {
    const ranks = [...this.ranks.values()].sort((a, b) => a.rank - b.rank).map((r) => ({ ...r }));
    const nodes: NodeInfo[] = [];
    for (const { host, ...rec } of this.hosts) {
      const node = rec.node ?? { host, cpuPercent: 0, memUsedBytes: 0, memTotalBytes: 0, processes: [] };
      // A process's state is its rank's, which may be newer than the host's last sample.
      const processes = node.processes.map((p) => {
        const r = p.rank === undefined ? undefined : this.ranks.get(p.rank);
        return r && r.pid === p.pid ? { ...p, state: r.state } : p;
      });
      nodes.push({ ...node, processes });
    }
    const reports = this.hosts.flatMap((h) => Object.values(h.reports));
    return { nodes, ranks, ...sumReports(reports) };
  }

  logs(rank: number, tail: number): string[] | undefined {
    if (!this.ranks.has(rank)) return undefined;
    return this.rings.get(rank)?.tail(tail) ?? [];
  }
}
