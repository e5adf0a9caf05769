/**
 * The worker process: pulls tasks from the head, resolves ObjectRef arguments (inline ones come with
 * the task, others are fetched from whichever process holds them), runs the function and reports
 * completions in batches. Started by a node agent with the head's endpoint and the cluster secret in
 * its environment (never on the command line). Arguments are decoded, prefetched and cached by
 * arg-cache.ts; this file runs tasks (a synchronous fast path and a general one, side by side so they
 * stay in step) and reports them.
 */
import { hostname } from 'node:os';
import { deserialize, serialize } from 'node:v8';
import { init } from '../../collectives/init.js';
import { freePort } from '../process/local-spawner.js';
import { STORE_FEED_KEY } from '../telemetry/cluster-feed.js';
import { hostIdentity } from '../transport/host-identity.js';
import { deriveJobKeys } from '../transport/keys.js';
import { ActorHost } from './actors/actor-host.js';
import { ArgumentCache } from './arg-cache.js';
import { failureOf, successOf } from './completion.js';
import { HeadLink } from './head-link.js';
import { ObjectFetcher, ObjectServer } from './object-server.js';
import { type PoolConfig, readPoolConfig } from './pool-config.js';
import { type PoolMessage, PoolOp } from './protocol.js';
import type { SpmdContext } from './remote-types.js';
import { traceTask, traceWorkerThread, tracing } from './task-trace.js';
import type { CompletionItem, DispatchItem } from './task-types.js';

/**
 * How many tasks a worker holds (queued here + credit at the head) adapts to task length: about
 * PoolConfig.bufferMs of work, between MIN_HOLD and PoolConfig.maxHold. Tiny tasks then travel in
 * batches of hundreds (measured here: holding 32 no-op tasks gave ~3,300 tasks/s, 512 gave
 * ~10,000-14,000), while long tasks are held one or two at a time, so idle workers can pull them
 * (balance) and a dying worker takes few with it.
 */
const MIN_HOLD = 2;
const INITIAL_HOLD = MIN_HOLD;
/** A task running longer than this hands the tasks queued behind it back to the head for others. */
const RETURN_AFTER_MS = 50;
/** Completions are flushed at least this often while tasks keep running. */
const FLUSH_EVERY_MS = 2;
const FLUSH_EVERY_COUNT = 64;

class Worker {
  private readonly queue: Array<{ item: DispatchItem; blobs: Uint8Array[] }> = [];
  private readonly args: ArgumentCache;
  private readonly modules = new Map<string, Record<string, unknown>>();
  private results: CompletionItem[] = [];
  private resultBlobs: Uint8Array[] = [];
  private lastFlush = Date.now();
  private running = false;
  /** Tasks held here plus credit granted at the head (see MIN_HOLD). */
  private allowance = INITIAL_HOLD;
  /** Moving average of task run time in ms. */
  private avgMs = 1;
  private readonly actors: ActorHost;

  constructor(
    private readonly link: HeadLink,
    private readonly server: ObjectServer,
    private readonly fetcher: ObjectFetcher,
    private readonly bindAddress: string,
    private readonly config: PoolConfig,
  ) {
    this.args = new ArgumentCache(server, fetcher);
    link.onMessage = (m) => this.onMessage(m);
    this.actors = new ActorHost({
      args: (item, blobs) => this.args.argsOf(item, blobs),
      module: (url) => this.moduleOf(url),
      send: (op, body, blobs) => this.link.send(op, body, blobs),
      server,
      inlineMaxBytes: config.inlineMaxBytes,
    });
    // No onLost: a worker never judges the head by silence (a head embedded in a driver is silent
    // while the driver computes). Its node agent watches the head and stops it; parent-watch ends it
    // when the node agent dies.
  }

  private onMessage(m: PoolMessage): void {
    switch (m.op) {
      case PoolOp.Dispatch:
        for (const item of m.body as DispatchItem[]) {
          this.args.prefetch(item, m.blobs);
          if (item.actor) this.actors.accept(item, m.blobs);
          else this.queue.push({ item, blobs: m.blobs });
        }
        void this.pump();
        return;
      case PoolOp.ActorStop:
        this.actors.stop((m.body as { id: string }).id);
        return;
      case PoolOp.Free:
        for (const id of m.body as string[]) {
          this.server.store.delete(id);
          this.args.free(id);
        }
        return;
      case PoolOp.Shutdown:
        this.link.close();
        this.server.close();
        this.fetcher.close();
        process.exit(0);
    }
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const { item, blobs } = this.queue.shift()!;
        const t0 = performance.now();
        const pending = this.runOne(item, blobs);
        if (pending) {
          // An async task leaves the loop free: if it runs long, give the queue to idle workers.
          const timer = setTimeout(() => this.returnQueued(), RETURN_AFTER_MS);
          await pending;
          clearTimeout(timer);
        }
        const ms = performance.now() - t0;
        if (tracing) traceTask(item, t0);
        this.avgMs += (ms - this.avgMs) * 0.05;
        // A long synchronous task held the loop: tasks queued behind it may be better off elsewhere.
        if (ms > RETURN_AFTER_MS) this.returnQueued();
        if (this.results.length >= FLUSH_EVERY_COUNT || Date.now() - this.lastFlush >= FLUSH_EVERY_MS)
          this.flush();
      }
    } finally {
      this.running = false;
    }
    this.flush();
  }

  /** Hands queued, unstarted tasks back to the head (it requeues them at the front, same attempt). */
  private returnQueued(): void {
    if (this.queue.length === 0) return;
    const ids = this.queue.splice(0).map((q) => q.item.id);
    this.allowance -= ids.length;
    this.avgMs = Math.max(this.avgMs, RETURN_AFTER_MS);
    this.link.send(PoolOp.Return, ids);
  }

  private flush(): void {
    if (this.results.length === 0) return;
    this.allowance -= this.results.length;
    const { bufferMs, maxHold } = this.config;
    const target = Math.max(MIN_HOLD, Math.min(maxHold, Math.round(bufferMs / Math.max(this.avgMs, 1e-3))));
    const credit = Math.max(0, target - this.allowance);
    this.allowance += credit;
    this.link.send(PoolOp.Complete, { credit, results: this.results }, this.resultBlobs);
    this.results = [];
    this.resultBlobs = [];
    this.lastFlush = Date.now();
  }

  /**
   * Runs one task. The common case (arguments at hand, module loaded, synchronous function) completes
   * without a single await, so a batch of small tasks runs back to back in one event-loop turn.
   */
  private runOne(item: DispatchItem, blobs: Uint8Array[]): Promise<void> | undefined {
    let args: unknown[];
    try {
      args = deserialize(item.args) as unknown[];
      const mod = this.modules.get(item.mod);
      if (item.spmd || !mod || !this.args.atHand(args)) return this.runAsync(item, blobs, args);
      this.args.fillAtHand(args);
      const value = this.fnOf(mod, item)(...args);
      if (
        value !== null &&
        typeof value === 'object' &&
        typeof (value as Promise<unknown>).then === 'function'
      ) {
        return (value as Promise<unknown>).then(
          (v) => this.succeed(item, v),
          (e) => this.fail(item, e),
        );
      }
      this.succeed(item, value);
    } catch (e) {
      this.fail(item, e);
    }
    return undefined;
  }

  private fnOf(mod: Record<string, unknown>, item: DispatchItem): (...a: unknown[]) => unknown {
    const fn = mod[item.fn];
    if (typeof fn !== 'function') {
      throw new TypeError(
        `${item.mod} has no exported function '${item.fn}' (exports: ${Object.keys(mod).join(', ') || 'none'})`,
      );
    }
    return fn as (...a: unknown[]) => unknown;
  }

  private async moduleOf(url: string): Promise<Record<string, unknown>> {
    let mod = this.modules.get(url);
    if (!mod) {
      mod = (await import(url)) as Record<string, unknown>;
      this.modules.set(url, mod);
    }
    return mod;
  }

  private async runAsync(item: DispatchItem, blobs: Uint8Array[], args: unknown[]): Promise<void> {
    try {
      await this.args.fetchArgs(item, blobs, args);
      const mod = await this.moduleOf(item.mod);
      const fn = this.fnOf(mod, item);
      this.succeed(item, item.spmd ? await this.runSpmd(item, fn, args) : await fn(...args));
    } catch (e) {
      this.fail(item, e);
    }
  }

  private succeed(item: DispatchItem, value: unknown): void {
    try {
      this.results.push(successOf(item, value, this.server, this.resultBlobs, this.config.inlineMaxBytes));
    } catch (e) {
      this.fail(item, e);
    }
  }

  private fail(item: DispatchItem, e: unknown): void {
    this.results.push(failureOf(item, e));
  }

  private async runSpmd(
    item: DispatchItem,
    fn: (...a: unknown[]) => unknown,
    args: unknown[],
  ): Promise<unknown> {
    const s = item.spmd!;
    let { masterAddr, masterPort } = s;
    if (s.rank === 0) {
      masterAddr = this.bindAddress;
      masterPort = await freePort(masterAddr);
      this.link.send(PoolOp.SpmdPort, { group: s.group, addr: masterAddr, port: masterPort });
    }
    const pg = await init({
      env: {
        RANK: String(s.rank),
        WORLD_SIZE: String(s.size),
        LOCAL_RANK: String(s.localRank),
        LOCAL_WORLD_SIZE: String(s.localSize),
        MASTER_ADDR: String(masterAddr),
        MASTER_PORT: String(masterPort),
        TSRUN_JOB_SECRET: s.secret,
      },
    });
    const ctx: SpmdContext = {
      pg,
      rank: s.rank,
      size: s.size,
      emit: (value) => this.link.send(PoolOp.Event, { id: item.id, rank: s.rank, value: serialize(value) }),
    };
    try {
      return await fn(ctx, ...args);
    } finally {
      await pg.destroy();
    }
  }

  /** Tells the head this worker is ready for its first tasks. */
  start(): void {
    this.link.send(PoolOp.Pull, { credit: INITIAL_HOLD });
  }
}

async function main(): Promise<void> {
  const config = readPoolConfig();
  const secret = config.secret ?? '';
  const endpoint = config.headEndpoint;
  if (!secret || !endpoint) {
    process.stderr.write(
      'tsrun pool worker: TSRUN_POOL_SECRET and TSRUN_POOL_HEAD must be set (started by a node agent)\n',
    );
    process.exit(2);
  }
  delete process.env.TSRUN_POOL_SECRET; // task code has no business reading the cluster secret
  const keys = deriveJobKeys(secret);
  const host = hostIdentity();
  const { server, bindAddress } = await ObjectServer.forHead(endpoint, keys, host);
  const fetcher = new ObjectFetcher(keys, host);
  const { link, welcome } = await HeadLink.open(
    endpoint,
    keys,
    {
      role: 'worker',
      pid: process.pid,
      host,
      hostname: hostname(),
      cpus: config.workerCpus,
      nodePid: config.nodePid,
      location: server.location,
    },
    undefined,
    0,
  );
  if (tracing) traceWorkerThread();
  // A head serving a dashboard shows each node's object store (in memory, spilled, limit).
  if (welcome.dashboard) link.heartbeatBody = () => ({ [STORE_FEED_KEY]: server.store.summary() });
  new Worker(link, server, fetcher, bindAddress, config).start();
}

void main().catch((e) => {
  process.stderr.write(`tsrun pool worker ${process.pid}: ${(e as Error).message}\n`);
  process.exit(1);
});
