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

/** An actor of a pool cluster, as the actors table shows it. */
export interface ActorInfo {
  cls: string;
  name?: string;
  state: string;
  restarts: number;
  host?: string;
  pid?: number;
  callsFinished: number;
}

/** One node's object store: the sum over its workers. */
export interface ObjectStoreInfo {
  host: string;
  inMemoryBytes: number;
  spilledBytes: number;
  limitBytes: number;
}

/** A job submitted with `tsrun job submit`. */
export interface JobRow {
  id: string;
  /** As `tsrun job status` prints it: FAILED carries its exit code. */
  state: string;
  entrypoint: string;
  submittedAt: string;
  endedAt?: string;
}

export interface DashboardState {
  nodes: NodeInfo[];
  ranks: RankInfo[];
  tasks: TaskTotals;
  collectives: CollectiveTotals;
  /** Pool clusters only. */
  actors?: ActorInfo[];
  objectStores?: ObjectStoreInfo[];
  jobs?: JobRow[];
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
