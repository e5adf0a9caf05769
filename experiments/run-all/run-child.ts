import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DEFAULT_KILL_GRACE_MS } from '../../src/process/local-spawner.js';
import { killGroup, signalGroup, spawnInGroup, stopGroups } from '../../src/process/process-group.js';

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
/** Time between SIGTERM and SIGKILL for a cell that overran: the launcher's own grace for its ranks. */
const KILL_GRACE_MS = DEFAULT_KILL_GRACE_MS;

const live = new Set<ChildProcess>();

/** Stops every child process group this runner started (on Ctrl-C), by their own ids. */
export function stopAllChildren(): void {
  for (const child of live) signalGroup(child, 'SIGTERM');
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
  const child = spawnInGroup(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const out: Buffer[] = [];
  let tail: string[] = [];
  let partial = '';
  child.stdout!.on('data', (b: Buffer) => {
    out.push(b);
    log.write(b);
  });
  child.stderr!.on('data', (b: Buffer) => {
    log.write(b);
    const lines = (partial + b.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    tail = tail.concat(lines).slice(-TAIL_LINES);
  });
  const closed = new Promise<[number | null, NodeJS.Signals | null]>((done) => {
    child.on('error', (err) => {
      tail.push(`could not start ${cmd}: ${err.message}`);
      done([null, null]);
    });
    child.on('close', (c, s) => done([c, s]));
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void stopGroups([child], 'SIGTERM', KILL_GRACE_MS, closed);
  }, opts.timeoutMs);
  const [code, signal] = await closed;
  clearTimeout(timer);
  // Ranks left behind by a launcher that died must not outlive the cell.
  if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
  live.delete(child);
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
