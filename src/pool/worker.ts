/**
 * The worker process: pulls tasks from the head, resolves ObjectRef arguments (inline ones come with
 * the task, others are fetched from whichever process holds them), runs the function and reports
 * completions in batches. Started by a node agent with the head's endpoint and the cluster secret in
 * its environment (never on the command line). Slightly over ~300 lines: the synchronous fast path and
 * the general path of runOne are kept side by side so they stay in step.
 */
import { hostname } from 'node:os';
import { deserialize, serialize } from 'node:v8';
import { init } from '../../collectives/init.js';
import { freePort } from '../process/local-spawner.js';
import { STORE_FEED_KEY } from '../telemetry/cluster-feed.js';
import { bindAddressFor, hostIdentity, privateIpcDir } from '../transport/host-identity.js';
import { deriveJobKeys } from '../transport/keys.js';
import { decodePayload } from '../wire/index.js';
import { ActorHost } from './actors/actor-host.js';
import { failureOf, successOf } from './completion.js';
import { HeadLink } from './head-link.js';
import { ObjectFetcher, ObjectServer } from './object-server.js';
import { blobBytes, blobFrames, type PoolMessage, PoolOp } from './protocol.js';
import type { SpmdContext } from './remote-types.js';
import { traceTask, traceWorkerThread, tracing } from './task-trace.js';
import type { CompletionItem, DispatchItem } from './task-types.js';

/**
 * How many tasks a worker holds (queued here + credit at the head) adapts to task length: about
 * BUFFER_MS of work, between MIN_HOLD and MAX_HOLD. Tiny tasks then travel in batches of hundreds
 * (measured here: holding 32 no-op tasks gave ~3,300 tasks/s, 512 gave ~10,000-14,000), while long
 * tasks are held one or two at a time, so idle workers can pull them (balance) and a dying worker
 * takes few with it.
 */
const BUFFER_MS = Number(process.env.TSRUN_POOL_BUFFER_MS ?? 10);
const MIN_HOLD = 2;
const MAX_HOLD = Number(process.env.TSRUN_POOL_PREFETCH ?? 1024);
const INITIAL_HOLD = MIN_HOLD;
/** A task running longer than this hands the tasks queued behind it back to the head for others. */
const RETURN_AFTER_MS = 50;
/** Completions are flushed at least this often while tasks keep running. */
const FLUSH_EVERY_MS = 2;
const FLUSH_EVERY_COUNT = 64;
/** Remote arguments fetched ahead of the task that needs them, at most. */
const MAX_PREFETCH = 2;

interface RefMarker {
  __tsrunRef: string;
}

function isRefMarker(v: unknown): v is RefMarker {
  return typeof v === 'object' && v !== null && typeof (v as RefMarker).__tsrunRef === 'string';
}

class Worker {
  private readonly queue: Array<{ item: DispatchItem; blobs: Uint8Array[] }> = [];
  /** Decoded argument values, least recently stored first; bounded like the object store. */
  private readonly values = new Map<string, unknown>();
  private readonly valueBytes = new Map<string, number>();
  private valuesTotal = 0;
  private readonly fetching = new Map<string, Promise<unknown>>();
  private readonly modules = new Map<string, Record<string, unknown>>();
  private results: CompletionItem[] = [];
  private resultBlobs: Uint8Array[] = [];
  private lastFlush = Date.now();
  private running = false;
  /** Tasks held here plus credit granted at the head (see BUFFER_MS). */
  private allowance = INITIAL_HOLD;
  /** Moving average of task run time in ms. */
  private avgMs = 1;
  private readonly actors: ActorHost;

  constructor(
    private readonly link: HeadLink,
    private readonly server: ObjectServer,
    private readonly fetcher: ObjectFetcher,
    private readonly bindAddress: string,
  ) {
    link.onMessage = (m) => this.onMessage(m);
    this.actors = new ActorHost({
      args: (item, blobs) => this.argsOf(item, blobs),
      module: (url) => this.moduleOf(url),
      send: (op, body, blobs) => this.link.send(op, body, blobs),
      server,
    });
    // No onLost: a worker never judges the head by silence (a head embedded in a driver is silent
    // while the driver computes). Its node agent watches the head and stops it; parent-watch ends it
    // when the node agent dies.
  }

  private onMessage(m: PoolMessage): void {
    switch (m.op) {
      case PoolOp.Dispatch:
        for (const item of m.body as DispatchItem[]) {
          this.prefetch(item, m.blobs);
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
          this.forget(id);
          this.fetching.delete(id);
        }
        return;
      case PoolOp.Shutdown:
        this.link.close();
        this.server.close();
        this.fetcher.close();
        process.exit(0);
    }
  }

  /**
   * Starts fetching remote arguments as soon as a task arrives, so transfers overlap earlier tasks. Ahead
   * of need (not `now`), at most MAX_PREFETCH fetches run and spilled objects stay on disk: a batch of
   * tasks over spilled objects must not bring them all into memory at once.
   */
  private prefetch(item: DispatchItem, blobs: Uint8Array[], now = false): void {
    for (const d of item.deps) {
      if (this.values.has(d.id) || this.fetching.has(d.id)) continue;
      if (d.meta) {
        const frames = blobFrames(d.meta, blobs);
        this.remember(d.id, decodePayload(d.meta, frames), blobBytes(frames));
      } else if (d.loc) {
        const here = this.server.store.has(d.id);
        if (!now && (here ? !this.server.store.inMemory(d.id) : this.fetching.size >= MAX_PREFETCH)) continue;
        const local = here ? this.server.store.get(d.id) : undefined;
        const p = local
          ? Promise.resolve(decodePayload(local, local.frames))
          : this.fetcher.fetch(d.id, d.loc).then((o) => decodePayload(o, o.frames));
        this.fetching.set(
          d.id,
          p.then((v) => {
            this.remember(d.id, v, byteSize(v));
            this.fetching.delete(d.id);
            return v;
          }),
        );
      }
    }
  }

  /**
   * Caches a decoded argument; past the store's limit the oldest are dropped (decoded again from the
   * store, or fetched again, when a later task needs them), so spilled objects do not pile up here.
   */
  private remember(id: string, v: unknown, bytes: number): void {
    this.forget(id);
    this.values.set(id, v);
    this.valueBytes.set(id, bytes);
    this.valuesTotal += bytes;
    while (this.valuesTotal > this.server.store.limit && this.values.size > 1) {
      const oldest = this.values.keys().next().value as string;
      this.forget(oldest);
    }
  }

  private forget(id: string): void {
    const n = this.valueBytes.get(id);
    if (n !== undefined) this.valuesTotal -= n;
    this.valueBytes.delete(id);
    this.values.delete(id);
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
    const target = Math.max(MIN_HOLD, Math.min(MAX_HOLD, Math.round(BUFFER_MS / Math.max(this.avgMs, 1e-3))));
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
      if (item.spmd || !mod || !this.argsAtHand(args)) return this.runAsync(item, blobs, args);
      for (let i = 0; i < args.length; i++) {
        const a = args[i];
        if (isRefMarker(a)) args[i] = this.values.get(a.__tsrunRef);
      }
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

  private argsAtHand(args: unknown[]): boolean {
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (isRefMarker(a) && !this.values.has(a.__tsrunRef)) return false;
    }
    return true;
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

  /** item's arguments with ObjectRefs replaced by their values; a promise only when some must be fetched. */
  private argsOf(item: DispatchItem, blobs: Uint8Array[]): unknown[] | Promise<unknown[]> {
    const args = deserialize(item.args) as unknown[];
    if (!this.argsAtHand(args)) return this.fetchArgs(item, blobs, args);
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (isRefMarker(a)) args[i] = this.values.get(a.__tsrunRef);
    }
    return args;
  }

  private async fetchArgs(item: DispatchItem, blobs: Uint8Array[], args: unknown[]): Promise<unknown[]> {
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (!isRefMarker(a)) continue;
      const id = a.__tsrunRef;
      if (!this.values.has(id) && !this.fetching.has(id)) this.prefetch(item, blobs, true);
      // The awaited value itself: the cache may have dropped it again by the time the fetch is done.
      args[i] = this.values.has(id) ? this.values.get(id) : await this.fetching.get(id);
    }
    return args;
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
      await this.fetchArgs(item, blobs, args);
      const mod = await this.moduleOf(item.mod);
      const fn = this.fnOf(mod, item);
      this.succeed(item, item.spmd ? await this.runSpmd(item, fn, args) : await fn(...args));
    } catch (e) {
      this.fail(item, e);
    }
  }

  private succeed(item: DispatchItem, value: unknown): void {
    try {
      this.results.push(successOf(item, value, this.server, this.resultBlobs));
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
  const secret = process.env.TSRUN_POOL_SECRET ?? '';
  const endpoint = process.env.TSRUN_POOL_HEAD ?? '';
  if (!secret || !endpoint) {
    process.stderr.write(
      'tsrun pool worker: TSRUN_POOL_SECRET and TSRUN_POOL_HEAD must be set (started by a node agent)\n',
    );
    process.exit(2);
  }
  delete process.env.TSRUN_POOL_SECRET; // task code has no business reading the cluster secret
  const keys = deriveJobKeys(secret);
  const host = hostIdentity();
  const headHost = new URL(endpoint.replace(/^tcp:/, 'http:')).hostname || '127.0.0.1';
  const bindAddress = endpoint.startsWith('ipc://') ? '127.0.0.1' : await bindAddressFor(headHost);
  const server = await ObjectServer.start({
    keys,
    bindAddress,
    host,
    ipcDir: privateIpcDir(keys.jobId),
    workerId: 0,
  });
  const fetcher = new ObjectFetcher(keys, host);
  const { link, welcome } = await HeadLink.open(
    endpoint,
    keys,
    {
      role: 'worker',
      pid: process.pid,
      host,
      hostname: hostname(),
      cpus: Number(process.env.TSRUN_POOL_CPUS ?? 1),
      nodePid: Number(process.env.TSRUN_POOL_NODE_PID ?? 0),
      location: server.location,
    },
    undefined,
    0,
  );
  if (tracing) traceWorkerThread();
  // A head serving a dashboard shows each node's object store (in memory, spilled, limit).
  if (welcome.dashboard) link.heartbeatBody = () => ({ [STORE_FEED_KEY]: server.store.summary() });
  new Worker(link, server, fetcher, bindAddress).start();
}

void main().catch((e) => {
  process.stderr.write(`tsrun pool worker ${process.pid}: ${(e as Error).message}\n`);
  process.exit(1);
});

/** Bytes a decoded value holds, as far as it matters for the cache bound (typed arrays, buffers). */
function byteSize(v: unknown): number {
  if (ArrayBuffer.isView(v)) return v.byteLength;
  if (v instanceof ArrayBuffer) return v.byteLength;
  return 1024;
}
