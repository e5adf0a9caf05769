/**
 * The head of a pool cluster behind one CURVE ROUTER: the socket loop, the registry of clients (drivers,
 * workers, node agents, admins) and their liveness, and status. The work is done by its parts: the
 * object directory (object-directory.ts), the scheduler (scheduler.ts, with spmd-gangs.ts and
 * actors/), and the batched output (outbox.ts), flushed once per handled message.
 */
import os from 'node:os';
import path from 'node:path';
import { taskCounters } from '../telemetry/task-counters.js';
import { type CurveRouter, openCurveRouter } from '../transport/curve-router.js';
import { hostIdentity, privateIpcDir } from '../transport/host-identity.js';
import type { JobKeys } from '../transport/keys.js';
import { Deque } from './deque.js';
import type { HelloBody } from './head-link.js';
import { type AttachedClient, HeadSocketServer } from './head-socket-server.js';
import { ObjectDirectory, type PutItem } from './object-directory.js';
import { Outbox } from './outbox.js';
import { type PoolConfig, readPoolConfig } from './pool-config.js';
import { decodePool, type Location, type PoolMessage, PoolOp } from './protocol.js';
import { Scheduler } from './scheduler.js';
import type { Client, CompletionItem, TaskRec, TaskSpec, WorkerRec } from './task-types.js';

export type { Client, TaskRec, WorkerRec } from './task-types.js';
export { taskName } from './task-types.js';

export const ZAP_POOL_CONTROL_DOMAIN = 'tsrun-pool-control';

/**
 * What a dashboard sees of the head (src/dashboard/cluster-monitor.ts): every client's heartbeat body
 * (node agents put their host's samples there, drivers their own) and every worker exit. Set before
 * clients join, so their Welcome tells them to send samples.
 */
export interface HeadObserver {
  heartbeat(hello: HelloBody, body: unknown): void;
  workerExited(w: WorkerRec, e: { pid: number; code: number | null; signal: string | null }): void;
}

export class Head {
  private readonly clients = new Map<string, Client>();
  readonly workers = new Map<number, WorkerRec>();
  private readonly outbox: Outbox;
  private readonly objects: ObjectDirectory;
  private readonly scheduler: Scheduler;
  private nextClientId = 1;
  private nextLocalId = 1;
  /** Clients in this process (local-head-link.ts), by key: how the head's messages reach them. */
  private readonly localClients = new Map<string, (frames: Uint8Array[]) => void>();
  private lastTick = Date.now();
  private closed = false;
  private readonly ticker: NodeJS.Timeout;
  /** Same-host clients' Unix socket (head-socket-server.ts); set right after start. */
  private socketServer: HeadSocketServer | undefined;
  private readonly nodeStats = new Map<string, Record<string, unknown>>();
  readonly host = hostIdentity();
  observer?: HeadObserver;
  /** Called when an admin asks the cluster to stop (the process owning the head exits then). */
  onShutdown: () => void = () => {};
  /** Answers job requests (src/pool/jobs/job-manager.ts); without one they are refused. */
  onJobRequest: (body: unknown, reply: (answer: unknown) => void) => void = (body, reply) =>
    reply({
      req: (body as { req?: number })?.req,
      error: 'this head runs no jobs (start it with tsrun cluster start --head)',
    });

  private constructor(
    private readonly router: CurveRouter,
    readonly tcp: string,
    readonly ipc: string,
    private readonly config: PoolConfig,
  ) {
    this.outbox = new Outbox(
      router.sock,
      () => this.clients.values(),
      () => this.beforeFlush(),
    );
    this.objects = new ObjectDirectory(this.outbox);
    this.scheduler = new Scheduler(this.workers, this.objects, this.outbox);
    void this.loop();
    this.ticker = setInterval(() => this.tick(), 1000);
    this.ticker.unref();
    taskCounters.attach(this);
  }

  /** Binds tcp://bindAddress:port (0 = any free port) and a same-host ipc:// endpoint. */
  static async start(keys: JobKeys, bindAddress: string, port: number): Promise<Head> {
    const host = bindAddress.includes(':') ? `[${bindAddress}]` : bindAddress;
    let tcp = '';
    const ipc = `ipc://${path.join(privateIpcDir(keys.jobId), `head-${process.pid}.sock`)}`;
    let router: CurveRouter;
    try {
      router = await openCurveRouter(keys, ZAP_POOL_CONTROL_DOMAIN, { mandatory: false }, async (sock) => {
        await sock.bind(`tcp://${host}:${port === 0 ? '*' : port}`);
        tcp = sock.lastEndpoint ?? `tcp://${host}:${port}`;
        await sock.bind(ipc);
      });
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw new Error(
        code === 'EADDRINUSE'
          ? `cannot serve the pool head on ${bindAddress}:${port}: the port is in use (another cluster?); pick another --port`
          : `cannot serve the pool head on ${bindAddress}:${port}: ${(e as Error).message}`,
      );
    }
    const head = new Head(router, tcp, ipc, readPoolConfig());
    try {
      head.socketServer = await HeadSocketServer.listen(
        path.join(privateIpcDir(keys.jobId), `head-${process.pid}.link`),
        keys.dataToken,
        (deliver) => head.attachLocal(deliver),
      );
    } catch (e) {
      await head.close();
      throw new Error(`cannot serve the pool head's local socket: ${(e as Error).message}`);
    }
    return head;
  }

  /** Clients connected to the Unix socket now. */
  get localSocketClients(): number {
    return this.socketServer?.connections ?? 0;
  }

  /** Where clients on this host connect (unix://, faster than ipc:// or tcp:// for the control path). */
  get localEndpoint(): string {
    return this.socketServer?.endpoint ?? this.ipc;
  }

  get port(): number {
    return Number(this.tcp.slice(this.tcp.lastIndexOf(':') + 1));
  }

  /** The scheduler's side of actors (placement, restarts, names). */
  get actors(): Scheduler['actors'] {
    return this.scheduler.actors;
  }

  private async loop(): Promise<void> {
    try {
      for await (const frames of this.router.sock) {
        const [rid, ...rest] = frames;
        this.receive(rid, rest);
      }
    } catch {
      // closed
    }
  }

  private receive(rid: Buffer, frames: Uint8Array[]): void {
    let m: PoolMessage;
    try {
      m = decodePool(frames);
    } catch {
      return; // malformed frames are dropped, never a crash
    }
    try {
      this.handle(rid, m);
    } catch (e) {
      process.stderr.write(`tsrun pool head: error handling op ${m.op}: ${(e as Error).stack}\n`);
    }
  }

  /**
   * A client that is not behind the ROUTER: the driver of an embedded pool (local-head-link.ts) or a
   * connection to the head's Unix socket (head-socket-server.ts). The head's messages to it go to
   * deliver, and post takes its messages to the head, both as encoded frames. detach ends a driver's
   * or admin's session at once; a worker's end is still told by its node agent (WorkerExited, with the
   * exit code or signal), as for a socket worker.
   */
  attachLocal(deliver: (frames: Uint8Array[]) => void): AttachedClient {
    // Router-made routing ids start with a zero byte, so these never collide with a socket client's.
    const rid = Buffer.from(`local-${this.nextLocalId++}`, 'latin1');
    const key = rid.toString('latin1');
    this.localClients.set(key, deliver);
    return {
      post: (frames) => {
        if (!this.closed) this.receive(rid, frames);
      },
      detach: (why) => {
        if (this.closed) return;
        this.localClients.delete(key);
        const c = this.clients.get(key);
        if (c && c.hello.role !== 'worker' && c.hello.role !== 'node') {
          this.dropClient(c, why);
          this.outbox.scheduleFlush();
        }
      },
    };
  }

  private handle(rid: Buffer, m: PoolMessage): void {
    const key = rid.toString('latin1');
    const c = this.clients.get(key);
    if (c) c.lastHeard = Date.now();
    if (m.op === PoolOp.Hello) {
      this.hello(key, rid, m.body as HelloBody);
      return;
    }
    if (!c) return;
    switch (m.op) {
      case PoolOp.Heartbeat:
        if (c.hello.role === 'node' && m.body && typeof m.body === 'object')
          this.nodeStats.set(key, m.body as Record<string, unknown>);
        this.observer?.heartbeat(c.hello, m.body);
        return;
      case PoolOp.Submit:
        this.scheduler.submit(c, m.body as TaskSpec[]);
        break;
      case PoolOp.PutLocation:
        this.objects.put(c, m.body as PutItem[], m.blobs);
        break;
      case PoolOp.Free:
        this.objects.release(c, m.body as string[]);
        break;
      case PoolOp.Pull: {
        const w = this.workerOf(c);
        if (w) w.credit += (m.body as { credit: number }).credit;
        break;
      }
      case PoolOp.Return: {
        const w = this.workerOf(c);
        if (w) this.scheduler.returned(w, m.body as string[]);
        break;
      }
      case PoolOp.Complete: {
        const w = this.workerOf(c);
        if (w) this.scheduler.complete(w, m.body as { credit: number; results: CompletionItem[] }, m.blobs);
        break;
      }
      case PoolOp.Event: {
        const ev = m.body as { id: string; rank: number; value: Uint8Array };
        const t: TaskRec | undefined = this.scheduler.gangs.findTask(ev.id);
        if (t) this.outbox.enqueue(t.driver, PoolOp.Event, ev);
        break;
      }
      case PoolOp.SpmdPort:
        this.scheduler.gangs.port(m.body as { group: string; addr: string; port: number });
        break;
      case PoolOp.WorkerExited: {
        const b = m.body as { pid: number; code: number | null; signal: string | null };
        for (const w of this.workers.values()) {
          if (w.nodeKey === key && w.client.hello.pid === b.pid) {
            this.observer?.workerExited(w, b);
            this.workerLost(
              w,
              `worker pid ${b.pid} on ${w.client.hello.hostname} ${b.signal ? `was killed by ${b.signal}` : `exited with code ${b.code}`}`,
            );
          }
        }
        break;
      }
      case PoolOp.Status:
        this.outbox.enqueue(c, PoolOp.StatusReply, this.status());
        break;
      case PoolOp.ActorKill:
        this.actors.kill((m.body as { id: string }).id);
        break;
      case PoolOp.ActorLookup:
        this.actors.lookup(c, m.body as { req: number; name: string });
        break;
      case PoolOp.JobRequest:
        this.onJobRequest(m.body, (answer) => this.outbox.send(c, PoolOp.JobReply, answer));
        return;
      case PoolOp.Shutdown:
        this.onShutdown();
        return;
      case PoolOp.Goodbye:
        this.dropClient(c, 'said goodbye');
        return;
    }
    this.outbox.scheduleFlush();
  }

  private hello(key: string, rid: Buffer, hello: HelloBody): void {
    const old = this.clients.get(key);
    if (old) this.dropClient(old, 'reconnected');
    const c: Client = {
      key,
      rid,
      id: this.nextClientId++,
      hello,
      lastHeard: Date.now(),
      out: [],
      deliver: this.localClients.get(key),
    };
    this.clients.set(key, c);
    if (hello.role === 'worker') {
      const nodeKey = [...this.clients.values()].find(
        (n) => n.hello.role === 'node' && n.hello.host === hello.host && n.hello.pid === hello.nodePid,
      )?.key;
      const w: WorkerRec = {
        client: c,
        id: c.id,
        cpus: Number(hello.cpus ?? 1),
        credit: 0,
        location: { ...(hello.location as Location), workerId: c.id },
        nodeKey: nodeKey ?? '',
        assigned: new Map(),
        affinity: new Deque(),
        actorCpus: 0,
        done: 0,
      };
      this.workers.set(c.id, w);
    }
    this.outbox.send(c, PoolOp.Welcome, {
      clientId: c.id,
      headIpc: this.ipc,
      headLocal: this.localEndpoint,
      headHost: this.host,
      headPid: process.pid,
      workers: this.workers.size,
      dashboard: this.observer !== undefined,
    });
    this.outbox.scheduleFlush();
  }

  private workerOf(c: Client): WorkerRec | undefined {
    return c.hello.role === 'worker' ? this.workers.get(c.id) : undefined;
  }

  /** Runs before each batch leaves: place tasks, then tell workers what was freed. */
  private beforeFlush(): void {
    this.scheduler.schedule();
    const freed = this.objects.takeFreed();
    if (freed.length > 0)
      for (const w of this.workers.values()) this.outbox.enqueue(w.client, PoolOp.Free, freed);
  }

  private workerLost(w: WorkerRec, why: string): void {
    if (!this.workers.delete(w.id)) return;
    this.clients.delete(w.client.key);
    this.objects.workerLost(w, why);
    this.scheduler.workerLost(w, why);
    this.outbox.scheduleFlush();
  }

  private dropClient(c: Client, why: string): void {
    this.clients.delete(c.key);
    this.localClients.delete(c.key);
    if (c.hello.role === 'worker') {
      const w = this.workers.get(c.id);
      if (w) this.workerLost(w, `worker pid ${c.hello.pid} ${why}`);
    } else if (c.hello.role === 'node') {
      for (const w of [...this.workers.values()])
        if (w.nodeKey === c.key) this.workerLost(w, `its node on ${c.hello.hostname} ${why}`);
      this.nodeStats.delete(c.key);
    } else if (c.hello.role === 'driver') {
      this.scheduler.driverGone(c);
      this.objects.ownerGone(c);
    }
  }

  private tick(): void {
    const now = Date.now();
    // A late tick means this process's loop was blocked (an embedded head shares it with the driver):
    // messages may be waiting unread, so silence measured across the stall proves nothing.
    if (now - this.lastTick > 3000) for (const c of this.clients.values()) c.lastHeard = now;
    this.lastTick = now;
    const { nodeSilenceMs, driverSilenceMs } = this.config;
    for (const c of [...this.clients.values()]) {
      const limit = c.hello.role === 'node' ? nodeSilenceMs : c.hello.role === 'driver' ? driverSilenceMs : 0;
      if (limit > 0 && now - c.lastHeard > limit) this.dropClient(c, `went silent for ${limit} ms`);
      else this.outbox.send(c, PoolOp.Heartbeat, 0);
    }
    this.outbox.scheduleFlush();
  }

  status(): Record<string, unknown> {
    const nodes = [...this.clients.values()]
      .filter((c) => c.hello.role === 'node')
      .map((n) => {
        const ws = [...this.workers.values()].filter((w) => w.nodeKey === n.key);
        return {
          hostname: n.hello.hostname,
          pid: n.hello.pid,
          workers: ws.length,
          busy: ws.filter((w) => w.assigned.size > 0).length,
          idle: ws.filter((w) => w.assigned.size === 0).length,
          tasksDone: ws.reduce((s, w) => s + w.done, 0),
          memory: this.nodeStats.get(n.key) ?? {},
        };
      });
    let queued = this.scheduler.queue.length;
    for (const w of this.workers.values()) queued += w.affinity.length;
    return {
      head: { hostname: os.hostname(), pid: process.pid, address: this.tcp },
      nodes,
      workers: this.workers.size,
      drivers: [...this.clients.values()].filter((c) => c.hello.role === 'driver').length,
      queued,
      running: [...this.workers.values()].reduce((s, w) => s + w.assigned.size, 0),
      objects: this.objects.size,
      actors: this.actors.summary(),
    };
  }

  /** Tells every client the cluster is stopping, then closes the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    const sends = [...this.clients.values()]
      .filter((c) => c.hello.role !== 'admin')
      .map((c) => this.outbox.sendNow(c, PoolOp.Shutdown, 'the cluster was stopped').catch(() => {}));
    await Promise.race([Promise.all(sends), new Promise((r) => setTimeout(r, 500))]);
    this.closed = true;
    this.outbox.close();
    clearInterval(this.ticker);
    this.scheduler.close();
    // Give the Shutdown frames a moment on the wire: linger is 0, so close would drop them.
    await new Promise((r) => setTimeout(r, 50));
    this.router.close();
    this.socketServer?.close();
  }
}
