/**
 * Runs the real `tsrun` CLI (node bin/tsrun.js) for the launcher tests, and writes the small rank
 * programs they launch into a temp dir (.mts, so they are ESM wherever they live).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const tsrunBin = join(repoRoot, 'bin', 'tsrun.js');

/** A rank program that prints its view as one JSON line, can fail, sleep, and report its pid. */
export const REPORT_RANK = `
import { networkInterfaces } from 'node:os';
const addrs = Object.values(networkInterfaces()).flat()
  .filter((a) => a && a.family === 'IPv4' && !a.internal).map((a) => a!.address);
const e = process.env;
console.log(JSON.stringify({ rank: Number(e.RANK), localRank: Number(e.LOCAL_RANK), world: Number(e.WORLD_SIZE),
  localWorld: Number(e.LOCAL_WORLD_SIZE), group: Number(e.GROUP_RANK), masterAddr: e.MASTER_ADDR,
  masterPort: Number(e.MASTER_PORT), secret: e.TSRUN_JOB_SECRET, restart: Number(e.TSRUN_RESTART_COUNT),
  foo: e.FOO, args: process.argv.slice(2), addrs, pid: process.pid, cwd: process.cwd() }));
if (e.READY_DIR) {
  // Every rank checks in; a failing rank waits for all of them, so the test sees every rank start even
  // on a machine too loaded to start three processes within the failing one's lifetime.
  const fs = await import('node:fs');
  fs.writeFileSync(e.READY_DIR + '/' + e.RANK, '');
  if (e.FAIL_RANK === e.RANK) {
    const until = Date.now() + 30000;
    while (fs.readdirSync(e.READY_DIR).length < Number(e.WORLD_SIZE) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
if (e.FAIL_RANK === e.RANK && Number(e.FAIL_UNTIL_RESTART ?? 99) > Number(e.TSRUN_RESTART_COUNT)) {
  console.error('about to fail on rank ' + e.RANK);
  console.error('boom on rank ' + e.RANK);
  process.exit(3);
}
if (e.SLEEP_MS) await new Promise((r) => setTimeout(r, Number(e.SLEEP_MS)));
`;

export function writeRankPrograms(files: Record<string, string>): {
  dir: string;
  path(name: string): string;
  remove(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-ranks-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return {
    dir,
    path: (name) => join(dir, name),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface TsrunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface TsrunRun {
  proc: ChildProcess;
  result: Promise<TsrunResult>;
  /** Resolves with the first stdout line matching `re`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** The stderr seen so far. */
  stderr(): string;
}

export function startTsrun(args: string[], env: NodeJS.ProcessEnv = {}): TsrunRun {
  const t0 = Date.now();
  const proc = spawn(process.execPath, [tsrunBin, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    for (const w of [...waiters]) {
      const line = stdout.split('\n').find((l) => w.re.test(l));
      if (line) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const result = new Promise<TsrunResult>((resolve) => {
    proc.once('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 }));
  });
  return {
    proc,
    result,
    stderr: () => stderr,
    waitFor(re, timeoutMs = 30_000) {
      const line = stdout.split('\n').find((l) => re.test(l));
      if (line) return Promise.resolve(line);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new Error(`no stdout line matching ${re} within ${timeoutMs} ms:\n${stdout}\n${stderr}`)),
          timeoutMs,
        );
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
  };
}

export function runTsrun(args: string[], env: NodeJS.ProcessEnv = {}): Promise<TsrunResult> {
  return startTsrun(args, env).result;
}

/** The JSON lines printed by REPORT_RANK (with or without a [rank] tag), sorted by rank. */
export interface RankReport {
  rank: number;
  localRank: number;
  world: number;
  localWorld: number;
  group: number;
  masterAddr: string;
  masterPort: number;
  secret: string;
  restart: number;
  foo?: string;
  args: string[];
  addrs: string[];
  pid: number;
  cwd: string;
}

export function reports(stdout: string): RankReport[] {
  return stdout
    .split('\n')
    .map((l) => l.replace(/^\[\d+\] /, ''))
    .filter((l) => l.startsWith('{"rank"'))
    .map((l) => JSON.parse(l) as RankReport)
    .sort((a, b) => a.rank - b.rank);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitUntil(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}
