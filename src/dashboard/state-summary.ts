/**
 * What every dashboard source (one host's job, an SSH job's hosts, a pool cluster) computes the same way:
 * job totals from the ranks' reports, and one chart point a second with rates taken over the time since
 * the previous point.
 */
import type { CollectiveTotals } from '../telemetry/collective-counters.js';
import type { DashboardState, HistorySample, NodeInfo, RankReport } from '../telemetry/state-types.js';
import type { TaskTotals } from '../telemetry/task-counters.js';

export function emptyTasks(): TaskTotals {
  return { queued: 0, running: 0, finished: 0, failed: 0, byFunction: {} };
}

/** Collective totals are summed over ranks; task totals come from the one rank that runs the head. */
export function sumReports(reports: Iterable<RankReport | undefined>): {
  tasks: TaskTotals;
  collectives: CollectiveTotals;
} {
  const collectives = { ops: 0, bytes: 0, secondsInCollectives: 0 };
  let tasks = emptyTasks();
  for (const r of reports) {
    if (!r) continue;
    collectives.ops += r.collectives.ops;
    collectives.bytes += r.collectives.bytes;
    collectives.secondsInCollectives += r.collectives.secondsInCollectives;
    if (r.tasks) tasks = r.tasks;
  }
  return { tasks, collectives };
}

/** Turns successive states into chart points (CPU = mean over hosts, memory = sum over hosts). */
export class RateTracker {
  private prev?: { at: number; tasks: number; bytes: number };

  point(s: DashboardState): HistorySample {
    const at = performance.now() / 1000;
    const doneTasks = s.tasks.finished + s.tasks.failed;
    const prev = this.prev;
    const dt = prev ? at - prev.at : 0;
    this.prev = { at, tasks: doneTasks, bytes: s.collectives.bytes };
    return {
      t: Date.now() / 1000,
      cpuPercent: meanCpu(s.nodes),
      memUsedBytes: s.nodes.reduce((m, n) => m + n.memUsedBytes, 0),
      tasksPerSec: prev && dt > 0 ? Math.max(0, doneTasks - prev.tasks) / dt : 0,
      collectiveBytesPerSec: prev && dt > 0 ? Math.max(0, s.collectives.bytes - prev.bytes) / dt : 0,
    };
  }
}

function meanCpu(nodes: NodeInfo[]): number {
  return nodes.length === 0 ? 0 : nodes.reduce((c, n) => c + n.cpuPercent, 0) / nodes.length;
}
