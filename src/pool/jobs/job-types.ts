/**
 * The job requests of a persistent cluster (`tsrun job ...`), carried by PoolOp.JobRequest / JobReply
 * over the head's authenticated socket, and the record of one job as `status`, `list` and the dashboard
 * show it.
 */

export type JobState = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'STOPPED';

export const TERMINAL_STATES: readonly JobState[] = ['SUCCEEDED', 'FAILED', 'STOPPED'];

export interface JobInfo {
  id: string;
  state: JobState;
  /** The script as given and its arguments. */
  entrypoint: string[];
  /** Absolute directory on the head's host the driver runs in. */
  workingDir: string;
  submittedAt: string;
  startedAt?: string;
  endedAt?: string;
  /** Driver process id, which is also its process group id. */
  pid?: number;
  exitCode?: number;
  signal?: string;
  /** Why it failed before or outside its script (spawn error, head stopped). */
  message?: string;
}

export type JobRequest =
  | {
      req: number;
      kind: 'submit';
      script: string;
      args: string[];
      workingDir: string;
      env: Record<string, string>;
    }
  | { req: number; kind: 'status'; id: string }
  | { req: number; kind: 'logs'; id: string; offset: number }
  | { req: number; kind: 'stop'; id: string }
  | { req: number; kind: 'list' };

export type JobReply =
  | { req: number; error: string }
  | { req: number; job: JobInfo }
  | { req: number; jobs: JobInfo[] }
  | { req: number; job: JobInfo; data: Uint8Array; next: number };

export function isTerminal(s: JobState): boolean {
  return TERMINAL_STATES.includes(s);
}

/** One line for `status` and `list`: FAILED carries its exit code (or signal), as the contract says. */
export function describeState(j: JobInfo): string {
  if (j.state !== 'FAILED') return j.state;
  if (j.signal) return `FAILED (signal ${j.signal})`;
  if (j.exitCode !== undefined) return `FAILED (exit code ${j.exitCode})`;
  return `FAILED (${j.message ?? 'no exit code'})`;
}
