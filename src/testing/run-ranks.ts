import { deserialize, serialize } from 'node:v8';
import { TsrunError } from '../errors.js';
import {
  freePort,
  makeRankEnv,
  newJobSecret,
  spawnLocalRanks,
  tsxCommand,
} from '../process/local-spawner.js';
import { packageModulePath } from '../process/package-files.js';

/** A rank of runRanks failed: its error (name, message, remote stack) and which rank it was. */
export class RankFailedError extends TsrunError {
  override name = 'RankFailedError';
  constructor(
    readonly rank: number,
    readonly remoteName: string,
    readonly remoteMessage: string,
    readonly remoteStack: string | undefined,
  ) {
    super(`rank ${rank} failed: ${remoteName}: ${remoteMessage}`);
  }
}

export interface RunRanksOptions {
  /** Extra environment for every rank. */
  env?: Record<string, string>;
  /** Kill everything and reject after this long (default 120 s). */
  timeoutMs?: number;
}

const ENTRY = packageModulePath(import.meta.url, './rank-entry.ts');

/**
 * Runs `moduleUrl`'s export `exportName(...args)` on n real local rank processes (each with the tsrun
 * rank environment, so the function can call `init()`), and resolves to each rank's return value,
 * indexed by rank. Rejects with the first failing rank's error as RankFailedError. Arguments and return
 * values travel with the structured-clone algorithm (typed arrays, Maps, … survive).
 */
export async function runRanks<R = unknown>(
  n: number,
  moduleUrl: URL | string,
  exportName: string,
  ...args: unknown[]
): Promise<R[]> {
  return runRanksWith<R>({}, n, moduleUrl, exportName, ...args);
}

export type RankOutcome<R> =
  | { rank: number; ok: true; value: R }
  | { rank: number; ok: false; error: RankFailedError };

/** runRanks with options (extra env, overall timeout). */
export async function runRanksWith<R = unknown>(
  opts: RunRanksOptions,
  n: number,
  moduleUrl: URL | string,
  exportName: string,
  ...args: unknown[]
): Promise<R[]> {
  const outcomes = await runRanksSettled<R>(opts, n, moduleUrl, exportName, ...args);
  const failed = outcomes.filter((o) => !o.ok) as Array<{ rank: number; ok: false; error: RankFailedError }>;
  // A rank's own error is usually the root cause; its peers then report PeerLostError.
  const primary = failed.find((f) => f.error.remoteName !== 'PeerLostError') ?? failed[0];
  if (primary) throw primary.error;
  return outcomes.map((o) => (o as { value: R }).value);
}

/**
 * Like runRanks, but never rejects for a rank's failure: resolves to every rank's outcome (value, or its
 * error / exit status), for tests of fault handling where some ranks are meant to fail or die.
 */
export async function runRanksSettled<R = unknown>(
  opts: RunRanksOptions,
  n: number,
  moduleUrl: URL | string,
  exportName: string,
  ...args: unknown[]
): Promise<RankOutcome<R>[]> {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`runRanks: n must be a positive integer, got ${n}`);
  const port = await freePort('127.0.0.1');
  const secret = newJobSecret();
  const job = JSON.stringify({
    moduleUrl: String(moduleUrl),
    exportName,
    args: serialize(args).toString('base64'),
  });
  const ranks = Array.from({ length: n }, (_, r) => ({
    rank: r,
    localRank: r,
    env: {
      ...makeRankEnv({
        rank: r,
        localRank: r,
        worldSize: n,
        localWorldSize: n,
        groupRank: 0,
        masterAddr: '127.0.0.1',
        masterPort: port,
        jobSecret: secret,
      }),
      ...opts.env,
      TSRUN_TESTING_JOB: job,
    },
  }));
  const local = spawnLocalRanks({
    command: tsxCommand(ENTRY),
    ranks,
    ipc: true,
    stdio: 'pipe',
    killGraceMs: 2000,
  });
  type Msg = { ok: boolean; value?: string; error?: { name: string; message: string; stack?: string } };
  const results: Array<Msg | undefined> = new Array(n).fill(undefined);
  local.procs.forEach((p, i) => {
    p.stdout?.on('data', (d: Buffer) => process.stdout.write(d));
    p.stderr?.on('data', (d: Buffer) => process.stderr.write(d));
    p.on('message', (m) => {
      results[i] = m as Msg;
    });
  });
  const timeoutMs = opts.timeoutMs ?? 120_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void local.stop('SIGKILL');
  }, timeoutMs);
  const exits = await local.exited;
  clearTimeout(timer);
  if (timedOut) {
    const unfinished = results.map((r, i) => (r ? -1 : i)).filter((i) => i >= 0);
    const tails = unfinished.map((i) => `rank ${i}:\n${exits[i].stderrTail.join('\n')}`).join('\n');
    throw new Error(
      `runRanks: rank${unfinished.length === 1 ? '' : 's'} ${unfinished.join(', ')} did not finish within ${timeoutMs} ms (killed)\n${tails}`,
    );
  }
  return results.map((res, rank): RankOutcome<R> => {
    if (res?.ok && res.value !== undefined) {
      return { rank, ok: true, value: deserialize(Buffer.from(res.value, 'base64')) as R };
    }
    if (res?.error) {
      return {
        rank,
        ok: false,
        error: new RankFailedError(rank, res.error.name, res.error.message, res.error.stack),
      };
    }
    const e = exits[rank];
    const how = e.signal ? `signal ${e.signal}` : `exit code ${e.code}`;
    return {
      rank,
      ok: false,
      error: new RankFailedError(
        rank,
        'RankExited',
        `exited (${how}) without a result\n${e.stderrTail.join('\n')}`,
        undefined,
      ),
    };
  });
}
