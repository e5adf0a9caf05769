/**
 * What the SSH launcher and the per-host agent say to each other. Launcher → agent: one JSON line on the
 * agent's stdin (the job secret and -x variables travel here, never on a command line `ps` shows); then
 * stdin stays open, and its end means "stop the job". Agent → launcher: control lines on stderr, each
 * `CTL_MARK <json>`, mixed with the ranks' own stderr, which the launcher passes through. With a dashboard,
 * a `dash` line a second carries the host's sample, its ranks' reports and their new output lines.
 */

import type { FlightDump } from '../flight-record.js';
import type { NodeInfo, RankInfo, RankReport } from '../telemetry/state-types.js';
import type { TracePart } from '../trace/trace-types.js';

export const CTL_MARK = '@@tsrun-ctl@@ ';

export interface AgentHello {
  jobSecret: string;
  env: Record<string, string>;
  restartCount: number;
  /** The launcher serves a dashboard: run ranks with the reporter and relay `dash` events. */
  dashboard?: { pool: boolean; host: string };
  /** --trace: record the ranks' timelines and send them back in a `trace` event. */
  trace?: boolean;
}

/** One host's part of the dashboard, sent once a second by its agent. */
export interface DashEvent {
  ev: 'dash';
  node: NodeInfo;
  ranks: RankInfo[];
  reports: Record<number, RankReport>;
  /** New output lines per rank since the previous event. */
  logs: Record<number, string[]>;
}

export type AgentEvent =
  | { ev: 'started'; masterPort: number; pids: number[] }
  | { ev: 'exit'; rank: number; code: number | null; signal: string | null; stderrTail: string[] }
  | DashEvent
  /** The flight records this host's ranks wrote (sent once, after every rank exited). */
  | { ev: 'flight'; dumps: FlightDump[] }
  /** With --trace: the timeline parts this host's processes wrote (sent once, at the end). */
  | { ev: 'trace'; parts: TracePart[] };

export function encodeEvent(e: AgentEvent): string {
  return CTL_MARK + JSON.stringify(e) + '\n';
}

/** Splits one stderr line into the rank text before a control mark and the event after it. */
export function decodeLine(line: string): { text: string; event?: AgentEvent } {
  const at = line.indexOf(CTL_MARK);
  if (at === -1) return { text: line };
  try {
    return { text: line.slice(0, at), event: JSON.parse(line.slice(at + CTL_MARK.length)) as AgentEvent };
  } catch {
    return { text: line };
  }
}
