/**
 * What the SSH launcher and the per-host agent say to each other. Launcher → agent: one JSON line on the
 * agent's stdin (the job secret and -x variables travel here, never on a command line `ps` shows); then
 * stdin stays open, and its end means "stop the job". Agent → launcher: control lines on stderr, each
 * `CTL_MARK <json>`, mixed with the ranks' own stderr, which the launcher passes through.
 */
export const CTL_MARK = '@@tsrun-ctl@@ ';

export interface AgentHello {
  jobSecret: string;
  env: Record<string, string>;
  restartCount: number;
}

export type AgentEvent =
  | { ev: 'started'; masterPort: number; pids: number[] }
  | { ev: 'exit'; rank: number; code: number | null; signal: string | null; stderrTail: string[] };

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
