import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  seconds: number;
  stdout: string;
  /** The last lines of stderr, for the failure message. */
  stderrTail: string;
}

export interface ChildOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Both streams of the child are appended here as they come, for a post-mortem. */
  logFile: string;
}

const TAIL_LINES = 15;
/** Time between SIGTERM and SIGKILL for a cell that overran: the launcher stops its ranks in this time. */
const KILL_GRACE_MS = 5000;

const live = new Set<number>();

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** Stops every child process group this runner started (on Ctrl-C), by their own ids. */
export function stopAllChildren(): void {
  for (const pid of live) killGroup(pid, 'SIGTERM');
}

/**
 * Runs one command in its own process group, so a timeout stops the launcher and every rank it
 * started, not only the direct child. Never rejects for a non-zero exit: the caller decides.
 */
export async function runChild(cmd: string, args: string[], opts: ChildOptions): Promise<ChildRun> {
  await mkdir(dirname(opts.logFile), { recursive: true });
  const log = createWriteStream(opts.logFile);
  log.write(`$ ${[cmd, ...args].join(' ')}\n`);
  const t0 = performance.now();
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid !== undefined) live.add(child.pid);
  const out: Buffer[] = [];
  let tail: string[] = [];
  let partial = '';
  child.stdout.on('data', (b: Buffer) => {
    out.push(b);
    log.write(b);
  });
  child.stderr.on('data', (b: Buffer) => {
    log.write(b);
    const lines = (partial + b.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    tail = tail.concat(lines).slice(-TAIL_LINES);
  });
  let timedOut = false;
  let killTimer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    if (child.pid === undefined) return;
    killGroup(child.pid, 'SIGTERM');
    const pid = child.pid;
    killTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), KILL_GRACE_MS);
  }, opts.timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) => {
    child.on('error', (err) => {
      tail.push(`could not start ${cmd}: ${err.message}`);
      done([null, null]);
    });
    child.on('close', (c, s) => done([c, s]));
  });
  clearTimeout(timer);
  if (killTimer) clearTimeout(killTimer);
  if (child.pid !== undefined) {
    // Ranks left behind by a launcher that died must not outlive the cell.
    killGroup(child.pid, 'SIGKILL');
    live.delete(child.pid);
  }
  if (partial) tail = tail.concat(partial).slice(-TAIL_LINES);
  await new Promise<void>((done) => log.end(done));
  return {
    code,
    signal,
    timedOut,
    seconds: (performance.now() - t0) / 1000,
    stdout: Buffer.concat(out).toString('utf8'),
    stderrTail: tail.join('\n'),
  };
}
