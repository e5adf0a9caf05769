/**
 * The one local spawner: starts the rank processes of this node. Used by the `tsrun` CLI (every mode ends
 * here, on some host) and by the test harness `runRanks` in `src/testing/`.
 *
 * Each rank runs in its own process group (`detached`), so stopping a rank also stops whatever it spawned,
 * and a Ctrl-C on the terminal reaches only `tsrun`, which then stops the job in order. Because a detached
 * rank would outlive a launcher killed with SIGKILL, every rank preloads `parent-watch.mjs`, which exits the
 * rank's group when `TSRUN_PARENT_PID` disappears.
 */
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { RUNNING_FROM_SOURCE, SOURCE_CONDITION } from './package-files.js';
import { spawnInGroup, stopGroups } from './process-group.js';

export interface LocalRankSpec {
  rank: number;
  localRank: number;
  /** Full per-rank variables (see makeRankEnv), merged over the base env. */
  env: Record<string, string>;
}

export interface LocalSpawnOptions {
  /** argv after node, e.g. ['--import', tsxPath, script, ...args]. */
  command: string[];
  cwd?: string;
  /** Base environment (default process.env); each rank's env is merged over it. */
  env?: NodeJS.ProcessEnv;
  ranks: LocalRankSpec[];
  /** pipe: the caller (or the output streamer) reads proc.stdout/stderr. Default 'pipe'. */
  stdio?: 'pipe' | 'inherit';
  /** Add an IPC channel (child_process 'ipc') so the harness can receive results. */
  ipc?: boolean;
  /** TERM, then KILL survivors after this many ms (default 5000). */
  killGraceMs?: number;
  /** Preload parent-watch.mjs so ranks die with the launcher (default true). */
  parentWatch?: boolean;
  /** Lines of stderr kept for RankExit.stderrTail (default 20). */
  stderrTailLines?: number;
}

export interface RankExit {
  rank: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderrTail: string[];
}

export interface LocalJob {
  /** Index = position in ranks[]. */
  readonly procs: ReadonlyArray<ChildProcess>;
  /** Resolves when every rank has exited. */
  readonly exited: Promise<RankExit[]>;
  /** Fires as each rank exits (immediately for ranks that already have). */
  onRankExit(cb: (e: RankExit) => void): void;
  /** TERM all, KILL survivors after killGraceMs; resolves when all are gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export const DEFAULT_KILL_GRACE_MS = 5000;
const STDERR_KEEP_BYTES = 16 * 1024;
/** After 'exit', wait this long for stdio to drain before reporting (a grandchild may hold the pipe). */
const DRAIN_AFTER_EXIT_MS = 300;

const parentWatchUrl = new URL('./parent-watch.mjs', import.meta.url).href;

/** Path of the tsx loader of this package (a runtime dependency), so ranks run TypeScript from any cwd. */
export function tsxLoaderUrl(): string {
  return import.meta.resolve('tsx');
}

/** A script that plain `node` runs: JavaScript needs no TypeScript loader. */
export function isJavaScriptFile(script: string): boolean {
  return /\.(c|m)?js$/.test(script);
}

export interface NodeCommandOptions {
  /** Load tsx first (default: from a source checkout always, else unless every file is .js/.mjs/.cjs). */
  typescript?: boolean;
  /** Modules to `--import` before the script (after the loader, so they may be TypeScript). */
  preload?: string[];
}

/**
 * Node argv that runs `script` with `args`: tsx's loader for TypeScript (none for JavaScript), the preloads,
 * and, from a source checkout, the condition that resolves `import 'tsrun'` to the sources.
 */
export function nodeCommand(script: string, args: string[] = [], o: NodeCommandOptions = {}): string[] {
  // From a source checkout, `import 'tsrun'` in any script resolves to TypeScript, so tsx is always needed.
  const typescript =
    o.typescript ?? (RUNNING_FROM_SOURCE || [script, ...(o.preload ?? [])].some((f) => !isJavaScriptFile(f)));
  return [
    ...(RUNNING_FROM_SOURCE ? [`--conditions=${SOURCE_CONDITION}`] : []),
    ...(typescript ? ['--import', tsxLoaderUrl()] : []),
    ...(o.preload ?? []).flatMap((m) => ['--import', m]),
    script,
    ...args,
  ];
}

/** Node argv that runs a script under tsx whatever its extension (it may load TypeScript modules later). */
export function tsxCommand(script: string, args: string[] = []): string[] {
  return nodeCommand(script, args, { typescript: true });
}

export function newJobSecret(): string {
  return randomBytes(32).toString('hex');
}

export function makeRankEnv(o: {
  rank: number;
  localRank: number;
  worldSize: number;
  localWorldSize: number;
  groupRank: number;
  masterAddr: string;
  masterPort: number;
  jobSecret: string;
  restartCount?: number;
}): Record<string, string> {
  return {
    RANK: String(o.rank),
    LOCAL_RANK: String(o.localRank),
    WORLD_SIZE: String(o.worldSize),
    LOCAL_WORLD_SIZE: String(o.localWorldSize),
    GROUP_RANK: String(o.groupRank),
    MASTER_ADDR: o.masterAddr,
    MASTER_PORT: String(o.masterPort),
    TSRUN_JOB_SECRET: o.jobSecret,
    TSRUN_RESTART_COUNT: String(o.restartCount ?? 0),
    // torchrun's name for the same counter, so scripts ported from torch keep working.
    TORCHELASTIC_RESTART_COUNT: String(o.restartCount ?? 0),
  };
}

/** A TCP port that was free a moment ago on `host` (the kernel picks it). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  // Ports are picked below the kernel's ephemeral range (32768+ on Linux): a port the kernel handed out
  // with `listen(0)` is exactly the kind the next ephemeral bind or connect of any process may take before
  // rank 0 binds it. Random choice keeps concurrent jobs apart; each candidate is checked by binding it.
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (await canBind(host, port)) return port;
  }
  return listenPort(host, 0);
}

function canBind(host: string, port: number): Promise<boolean> {
  return listenPort(host, port).then(
    () => true,
    () => false,
  );
}

function listenPort(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port, host, exclusive: true }, () => {
      const addr = srv.address();
      const got = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(got));
    });
  });
}

/** Keeps the last bytes of a stream and splits them into lines on demand. */
class TailBuffer {
  private text = '';
  push(chunk: Buffer | string): void {
    this.text += chunk.toString();
    if (this.text.length > STDERR_KEEP_BYTES * 2) this.text = this.text.slice(-STDERR_KEEP_BYTES);
  }
  lines(n: number): string[] {
    const lines = this.text.split('\n');
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    return lines.slice(-n);
  }
}

export function spawnLocalRanks(opts: LocalSpawnOptions): LocalJob {
  const stdioMode = opts.stdio ?? 'pipe';
  const killGraceMs = opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const tailLines = opts.stderrTailLines ?? 20;
  const baseEnv = opts.env ?? process.env;
  const stdio: StdioOptions =
    stdioMode === 'pipe' ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'];
  if (opts.ipc) stdio.push('ipc');
  const preload = opts.parentWatch === false ? [] : ['--import', parentWatchUrl];

  const procs: ChildProcess[] = [];
  const exits: (RankExit | undefined)[] = opts.ranks.map(() => undefined);
  const listeners: ((e: RankExit) => void)[] = [];
  let remaining = opts.ranks.length;
  let resolveAll!: (v: RankExit[]) => void;
  const exited = new Promise<RankExit[]>((r) => {
    resolveAll = r;
  });

  const record = (i: number, e: RankExit) => {
    if (exits[i]) return;
    exits[i] = e;
    for (const cb of listeners) cb(e);
    remaining -= 1;
    if (remaining === 0) resolveAll(exits as RankExit[]);
  };

  opts.ranks.forEach((spec, i) => {
    const env: NodeJS.ProcessEnv = { ...baseEnv, TSRUN_PARENT_PID: String(process.pid), ...spec.env };
    const proc = spawnInGroup(process.execPath, [...preload, ...opts.command], { cwd: opts.cwd, env, stdio });
    procs.push(proc);
    const tail = new TailBuffer();
    proc.stderr?.on('data', (d: Buffer) => tail.push(d));
    let code: number | null = null;
    let signal: NodeJS.Signals | null = null;
    let exitSeen = false;
    const finish = () => record(i, { rank: spec.rank, code, signal, stderrTail: tail.lines(tailLines) });
    proc.once('error', (err) => {
      // Only a failed start is an exit; a failed kill() of a live process also lands here.
      if (proc.pid !== undefined) return;
      tail.push(`tsrun: could not start rank ${spec.rank}: ${err.message}\n`);
      code = 127;
      finish();
    });
    proc.once('exit', (c, s) => {
      code = c;
      signal = s;
      exitSeen = true;
      setTimeout(finish, DRAIN_AFTER_EXIT_MS).unref();
    });
    proc.once('close', () => {
      if (exitSeen) finish();
    });
  });
  if (opts.ranks.length === 0) resolveAll([]);

  let stopping: Promise<void> | undefined;
  return {
    procs,
    exited,
    onRankExit(cb) {
      listeners.push(cb);
      for (const e of exits) if (e) cb(e);
    },
    stop(sig: NodeJS.Signals = 'SIGTERM') {
      // Every group, also of ranks that already exited: their children may still run.
      stopping ??= stopGroups(procs, sig, killGraceMs, exited);
      return stopping;
    },
  };
}
