/** The shapes of `GET /api/state` (a contract of the dashboard issue) and of one history sample. */
import type { CollectiveTotals } from './collective-counters.js';
import type { TaskTotals } from './task-counters.js';

export type ProcessRole = 'rank' | 'worker' | 'head' | 'driver';
export type RankState = 'starting' | 'running' | 'exited' | 'failed';

export interface ProcessInfo {
  pid: number;
  role: ProcessRole;
  rank?: number;
  rssBytes: number;
  cpuPercent: number;
  state: string;
}

export interface NodeInfo {
  host: string;
  cpuPercent: number;
  memUsedBytes: number;
  memTotalBytes: number;
  processes: ProcessInfo[];
}

export interface RankInfo {
  rank: number;
  host: string;
  pid: number;
  state: RankState;
  exitCode?: number;
  signal?: string;
}

export interface DashboardState {
  nodes: NodeInfo[];
  ranks: RankInfo[];
  tasks: TaskTotals;
  collectives: CollectiveTotals;
}

/** One point of the live charts; the server keeps 15 minutes of them at one a second. */
export interface HistorySample {
  /** Unix seconds. */
  t: number;
  cpuPercent: number;
  memUsedBytes: number;
  tasksPerSec: number;
  collectiveBytesPerSec: number;
}

/** What a rank process sends its launcher once a second (see rank-reporter.ts). */
export interface RankReport {
  tsrunDashboard: 1;
  collectives: CollectiveTotals;
  tasks?: TaskTotals;
}

export function isRankReport(m: unknown): m is RankReport {
  return typeof m === 'object' && m !== null && (m as { tsrunDashboard?: unknown }).tsrunDashboard === 1;
}
