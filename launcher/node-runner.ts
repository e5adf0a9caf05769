/**
 * One attempt of the ranks of one node: spawns them, streams their output, and stops all of them as soon
 * as one fails (non-zero exit or signal). Used by local and per-node mode, and by the agent that the SSH
 * launcher starts on every host.
 */
import {
  type LocalJob,
  makeRankEnv,
  nodeCommand,
  type RankExit,
  spawnLocalRanks,
} from '../src/process/local-spawner.js';
import { OutputStreamer } from './output-streamer.js';

export interface NodePlan {
  script: string;
  scriptArgs: string[];
  /** Global rank of local rank 0 (ranks are node-major and contiguous). */
  rankOffset: number;
  localWorldSize: number;
  worldSize: number;
  groupRank: number;
  masterAddr: string;
  masterPort: number;
  jobSecret: string;
  restartCount: number;
  /** -x variables, merged over the base env, under the rank variables. */
  extraEnv: Record<string, string>;
  cwd?: string;
  tagOutput: boolean;
  logDir?: string;
  killGraceMs: number;
  /** Modules each rank imports before the script (after tsx, if any), e.g. the dashboard's rank reporter. */
  preload?: string[];
  /** Open an IPC channel to each rank (the dashboard's reports travel on it). */
  ipc?: boolean;
}

export interface NodeResult {
  exits: RankExit[];
  /** The first rank that failed; undefined when all exited 0 or the node was stopped from outside. */
  failure?: RankExit;
  /** Set when stop() ended the attempt (signal to tsrun, another host failed). */
  stoppedBy?: string;
}

export function rankFailed(e: RankExit): boolean {
  return e.code !== 0 || e.signal !== null;
}

/**
 * When a rank is SIGKILLed, its peers fail with PeerLostError within milliseconds, and libuv reaps
 * children in its own list order, not in order of death: the peer's `exit code 1` can be seen first.
 * A death by a signal tsrun did not send yet (tsrun sends SIGTERM first, SIGKILL only after the grace
 * period), seen just after, is the real root cause.
 */
function betterRootCause(e: RankExit, first: RankExit, sinceFirstMs: number, killGraceMs: number): boolean {
  return (
    first.signal === null &&
    e.signal !== null &&
    e.signal !== 'SIGTERM' &&
    sinceFirstMs < Math.min(250, killGraceMs)
  );
}

export class NodeRun {
  readonly job: LocalJob;
  readonly done: Promise<NodeResult>;
  private failure?: RankExit;
  private failureAt = 0;
  private stoppedBy?: string;

  constructor(
    plan: NodePlan,
    private readonly onRankExit?: (e: RankExit) => void,
  ) {
    const ranks = Array.from({ length: plan.localWorldSize }, (_, localRank) => {
      const rank = plan.rankOffset + localRank;
      return {
        rank,
        localRank,
        env: makeRankEnv({
          rank,
          localRank,
          worldSize: plan.worldSize,
          localWorldSize: plan.localWorldSize,
          groupRank: plan.groupRank,
          masterAddr: plan.masterAddr,
          masterPort: plan.masterPort,
          jobSecret: plan.jobSecret,
          restartCount: plan.restartCount,
        }),
      };
    });
    this.job = spawnLocalRanks({
      command: nodeCommand(plan.script, plan.scriptArgs, { preload: plan.preload }),
      cwd: plan.cwd,
      env: { ...process.env, ...plan.extraEnv },
      ranks,
      stdio: 'pipe',
      ipc: plan.ipc,
      killGraceMs: plan.killGraceMs,
    });
    const output = new OutputStreamer({ tagOutput: plan.tagOutput, logDir: plan.logDir });
    this.job.procs.forEach((p, i) => {
      output.attach(ranks[i].rank, p.stdout, p.stderr);
    });
    this.job.onRankExit((e) => {
      this.onRankExit?.(e);
      if (!rankFailed(e) || this.stoppedBy) return;
      if (!this.failure) {
        this.failure = e;
        this.failureAt = Date.now();
        void this.job.stop();
      } else if (betterRootCause(e, this.failure, Date.now() - this.failureAt, plan.killGraceMs)) {
        this.failure = e;
      }
    });
    this.done = this.job.exited.then(async (exits) => {
      await this.job.stop(); // reaps grandchildren left behind by ranks that exited on their own
      await output.close();
      return { exits, failure: this.failure, stoppedBy: this.stoppedBy };
    });
  }

  /** Stops every rank of this node (TERM, then KILL after the grace period). */
  stop(reason: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<NodeResult> {
    if (!this.failure) this.stoppedBy ??= reason;
    void this.job.stop(signal);
    return this.done;
  }
}
