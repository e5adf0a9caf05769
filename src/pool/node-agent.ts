/**
 * A node agent: starts this host's worker processes, restarts any that die, and tells the head at once
 * which worker died (so its tasks are re-run elsewhere without waiting for a timeout). One runs inside
 * an embedded pool's driver, one per `tsrun cluster start`, and one per worker rank of `tsrun --pool`.
 */
import { rmSync } from 'node:fs';
import { freemem, hostname, totalmem } from 'node:os';
import { type LocalJob, spawnLocalRanks, tsxCommand } from '../process/local-spawner.js';
import { packageModulePath } from '../process/package-files.js';
import { FEED_KEY, NodeFeed } from '../telemetry/cluster-feed.js';
import { hostIdentity } from '../transport/host-identity.js';
import { deriveJobKeys } from '../transport/keys.js';
import { HeadLink } from './head-link.js';
import { PoolOp } from './protocol.js';
import { objectStoreBytes, spillDirFor } from './spill-store.js';

const WORKER_ENTRY = packageModulePath(import.meta.url, './worker.ts');
/** More restarts than this within RESTART_WINDOW_MS means the worker cannot start: stop trying. */
const MAX_RESTARTS_IN_WINDOW = 20;
const RESTART_WINDOW_MS = 10_000;

export interface NodeAgentOptions {
  /** Head control endpoint (tcp://host:port). */
  endpoint: string;
  secret: string;
  workers: number;
  cpusPerWorker?: number;
  /** Head silence after which this node stops its workers (default PoolConfig.headSilenceMs; 0 = never). */
  headSilenceMs?: number;
  /** This node's object store memory, split evenly among its workers (default objectStoreBytes()). */
  objectStoreBytes?: number;
  /** Where worker output goes (default: inherited, so task logs reach the terminal). */
  stdio?: 'inherit' | 'pipe';
}

export class NodeAgent {
  private readonly jobs = new Set<LocalJob>();
  private stopping = false;
  private restarts: number[] = [];
  private resolveDone!: () => void;
  readonly done = new Promise<void>((r) => {
    this.resolveDone = r;
  });

  private constructor(
    private readonly link: HeadLink,
    private readonly workerEndpoint: string,
    private readonly opts: NodeAgentOptions,
    /** Set when the head serves a dashboard: workers' figures and output ride on the heartbeat. */
    private readonly feed?: NodeFeed,
  ) {
    link.onMessage = (m) => {
      if (m.op === PoolOp.Shutdown) void this.stop();
    };
    link.onLost = (e) => {
      process.stderr.write(`tsrun pool node on ${hostname()}: ${e.message}; stopping its workers\n`);
      void this.stop();
    };
    link.heartbeatBody = () => ({
      rss: process.memoryUsage.rss(),
      free: freemem(),
      total: totalmem(),
      ...(feed && { [FEED_KEY]: feed.sample(this.workerPids) }),
    });
  }

  static async start(opts: NodeAgentOptions): Promise<NodeAgent> {
    const keys = deriveJobKeys(opts.secret);
    const host = hostIdentity();
    const { link, welcome } = await HeadLink.open(
      opts.endpoint,
      keys,
      {
        role: 'node',
        pid: process.pid,
        host,
        hostname: hostname(),
        workers: opts.workers,
      },
      undefined,
      opts.headSilenceMs,
    );
    // Same host as the head: workers use its Unix socket (no ZeroMQ I/O threads on the control path).
    const endpoint = welcome.headHost === host ? String(welcome.headLocal ?? welcome.headIpc) : opts.endpoint;
    const agent = new NodeAgent(link, endpoint, opts, welcome.dashboard ? new NodeFeed() : undefined);
    for (let i = 0; i < opts.workers; i++) agent.spawnWorker(i);
    return agent;
  }

  private spawnWorker(slot: number): void {
    if (this.stopping) return;
    const job = spawnLocalRanks({
      // --expose-gc: a spilling store collects the buffers it let go (see SpillStore.collect).
      command: ['--expose-gc', ...tsxCommand(WORKER_ENTRY)],
      ranks: [
        {
          rank: slot,
          localRank: slot,
          env: {
            TSRUN_POOL_HEAD: this.workerEndpoint,
            TSRUN_POOL_SECRET: this.opts.secret,
            TSRUN_POOL_NODE_PID: String(process.pid),
            TSRUN_POOL_CPUS: String(this.opts.cpusPerWorker ?? 1),
            TSRUN_OBJECT_STORE_BYTES: String(
              Math.max(
                1,
                Math.floor(objectStoreBytes(this.opts.objectStoreBytes) / Math.max(1, this.opts.workers)),
              ),
            ),
          },
        },
      ],
      stdio: this.feed ? 'pipe' : (this.opts.stdio ?? 'inherit'),
      killGraceMs: 1000,
    });
    this.jobs.add(job);
    const proc = job.procs[0];
    const pid = proc.pid;
    if (this.feed && pid !== undefined) {
      // Output still goes where it would have gone (the terminal or the cluster's log file).
      this.feed.follow(pid, proc.stdout, proc.stderr);
      proc.stdout?.pipe(process.stdout, { end: false });
      proc.stderr?.pipe(process.stderr, { end: false });
    }
    job.onRankExit((e) => {
      this.jobs.delete(job);
      // A killed worker cannot clean up after itself: its spilled objects are lost with it.
      if (pid !== undefined) rmSync(spillDirFor(pid), { recursive: true, force: true });
      if (this.stopping) return;
      this.link.send(PoolOp.WorkerExited, { pid, code: e.code, signal: e.signal });
      const now = Date.now();
      this.restarts = this.restarts.filter((t) => now - t < RESTART_WINDOW_MS);
      this.restarts.push(now);
      if (this.restarts.length > MAX_RESTARTS_IN_WINDOW) {
        process.stderr.write(
          `tsrun pool node on ${hostname()}: workers keep dying (${this.restarts.length} in ${RESTART_WINDOW_MS} ms; ` +
            `last: ${e.signal ?? `exit code ${e.code}`}); not restarting slot ${slot}.\n${e.stderrTail.join('\n')}\n`,
        );
        return;
      }
      this.spawnWorker(slot);
    });
  }

  get workerPids(): number[] {
    return [...this.jobs].map((j) => j.procs[0].pid).filter((p): p is number => p !== undefined);
  }

  /** Stops every worker (TERM, then KILL) and leaves the head. */
  async stop(): Promise<void> {
    if (this.stopping) return this.done;
    this.stopping = true;
    await Promise.all([...this.jobs].map((j) => j.stop()));
    this.link.close();
    this.resolveDone();
  }
}
