/**
 * The SSH agent's side of the dashboard: a JobMonitor over this host's ranks (sampling the host and each
 * rank process every second, collecting the ranks' reports over their IPC channels and their output),
 * relayed to the launcher as one `dash` control line a second on the agent's existing control stream.
 * No socket of its own: the launcher's SSH connection carries everything.
 */
import type { DashEvent } from '../process/agent-protocol.js';
import type { DashboardState } from '../telemetry/state-types.js';
import { JobMonitor, type TrackedJob } from './job-monitor.js';

export class AgentRelay {
  private readonly monitor: JobMonitor;
  private readonly unsubscribe: () => void;

  constructor(
    o: { pool: boolean; host: string },
    private readonly emit: (e: DashEvent) => void,
  ) {
    this.monitor = new JobMonitor(o.pool, o.host);
    this.unsubscribe = this.monitor.subscribe((s) => this.send(s, false));
  }

  track(job: TrackedJob, ranks: number[]): void {
    this.monitor.track(job, ranks);
    this.monitor.start();
  }

  /** A last event once the ranks are gone, so their final lines and exits reach the launcher. */
  finish(): void {
    this.monitor.stop();
    this.unsubscribe();
    this.monitor.sample();
    this.send(this.monitor.state(), true);
  }

  /** `s` is the sample's own state (the subscriber gets it), not built a second time. */
  private send(s: DashboardState, final: boolean): void {
    this.emit({
      ev: 'dash',
      node: s.nodes[0],
      ranks: s.ranks,
      reports: this.monitor.reports(),
      logs: this.monitor.drainLogs(final),
    });
  }
}
