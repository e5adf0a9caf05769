/**
 * The head of a pool cluster: client registry, object directory and scheduler behind one CURVE ROUTER.
 * Longer than ~300 lines because the directory and the scheduler share every record (a completion
 * updates both in one step); placement policy itself is in placement.ts.
 *
 * Scheduling is pull-based: a worker announces credit (how many tasks it will hold) and returns credit
 * with each batch of completions, so fast workers pull more. Messages are batched: everything a
 * handler produces goes to per-client outboxes flushed once per event-loop turn.
 */
import os from 'node:os';
import path from 'node:path';
import * as zmq from 'zeromq';
import { taskCounters } from '../telemetry/task-counters.js';
import { hostIdentity, privateIpcDir } from '../transport/host-identity.js';
import type { JobKeys } from '../transport/keys.js';
import { SendQueue } from '../transport/send-queue.js';
import { SOCKET_DEFAULTS } from '../transport/socket-options.js';
import { z85Encode } from '../transport/z85.js';
import { registerZapDomain, releaseZapDomain } from '../transport/zap.js';
import { ActorDirectory } from './actors/actor-directory.js';
import { Deque } from './deque.js';
import type { WireErrorInfo } from './errors.js';
import type { HelloBody } from './head-link.js';
import { pickTasks, STEAL_AFTER_MS, spmdLocalRanks } from './placement.js';
import {
  blobFrames,
  decodePool,
  encodePool,
  type Location,
  type PoolMessage,
  PoolOp,
  pushBlob,
} from './protocol.js';
import type { CompletionItem, DispatchItem, DoneItem, StoredObject, TaskSpec } from './task-types.js';

export const ZAP_POOL_CONTROL_DOMAIN = 'tsrun-pool-control';
/** Node agents only wait on sockets, so 30 s of silence means their host is gone. */
const NODE_SILENCE_MS = Number(process.env.TSRUN_POOL_CLIENT_TIMEOUT_MS ?? 30_000);
/** A driver may compute synchronously for minutes between heartbeats; only then free what it owns. */
const DRIVER_SILENCE_MS = Number(process.env.TSRUN_POOL_DRIVER_TIMEOUT_MS ?? 600_000);
/** Objects at least this large pull their dependent tasks toward the worker holding them. */
const AFFINITY_MIN_BYTES = 1 << 20;

export interface Client {
  key: string;
  rid: Buffer;
  id: number;
  hello: HelloBody;
  lastHeard: number;
  out: { op: PoolOp; items: unknown[]; blobs: Uint8Array[] }[];
}

export interface WorkerRec {
  client: Client;
  id: number;
  cpus: number;
  credit: number;
  location: Location;
  nodeKey: string;
  assigned: Map<string, TaskRec>;
  affinity: Deque<TaskRec>;
  reservedFor?: SpmdGroup;
  /** cpus held by actors living here; a worker holding any takes no tasks. */
  actorCpus: number;
  done: number;
}

export interface TaskRec {
  spec: TaskSpec;
  driver: Client;
  attempt: number;
  waiting: number;
  worker?: WorkerRec;
  preferred?: WorkerRec;
  finished: boolean;
  /** When it entered a worker's affinity queue (stealing waits STEAL_AFTER_MS). */
  queuedAt?: number;
  /** performance.now() at submission, kept only while a dashboard counts tasks. */
  submittedAt?: number;
}

interface ObjRec {
  id: string;
  state: 'pending' | 'ready' | 'failed';
  inline?: StoredObject;
  loc?: Location;
  size: number;
  error?: WireErrorInfo;
  dependents: TaskRec[];
  held: boolean;
  uses: number;
  owner: Client;
  /** Sent to workers as a task argument: they cache its value until told it is freed. */
  shared?: boolean;
}

interface SpmdGroup {
  id: string;
  tasks: TaskRec[];
  workers: WorkerRec[];
  placed: boolean;
  finished: number;
}

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
  private readonly objects = new Map<string, ObjRec>();
  readonly queue = new Deque<TaskRec>();
  private readonly groups = new Map<string, SpmdGroup>();
  private readonly spmdWaiting: SpmdGroup[] = [];
  private readonly sendQueue: SendQueue;
  private readonly freed: string[] = [];
  private nextClientId = 1;
  private flushScheduled = false;
  private lastTick = Date.now();
  private stealTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly ticker: NodeJS.Timeout;
  private readonly nodeStats = new Map<string, Record<string, unknown>>();
  readonly actors = new ActorDirectory({
    workers: () => this.workers.values(),
    use: (id, delta) => {
      const o = this.objects.get(id);
      if (!o) return;
      o.uses += delta;
      this.maybeFree(o);
    },
    fail: (t, error) => this.finishTask(t, false, undefined, error),
    dispatch: (w, t) => this.dispatch(w, [t]),
    send: (c, op, item) => this.enqueue(c, op, item),
  });
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
    private readonly sock: zmq.Router,
    readonly tcp: string,
    readonly ipc: string,
  ) {
    this.sendQueue = new SendQueue(sock);
    void this.loop();
    this.ticker = setInterval(() => this.tick(), 1000);
    this.ticker.unref();
    taskCounters.attach(this);
  }

  /** Binds tcp://bindAddress:port (0 = any free port) and a same-host ipc:// endpoint. */
  static async start(keys: JobKeys, bindAddress: string, port: number): Promise<Head> {
    await registerZapDomain(
      ZAP_POOL_CONTROL_DOMAIN,
      (mechanism, creds) =>
        mechanism === 'CURVE' && creds[0]?.length === 32 && z85Encode(creds[0]) === keys.client.publicKey,
    );
    const sock = new zmq.Router({
      ...SOCKET_DEFAULTS,
      curveServer: true,
      curveSecretKey: keys.server.secretKey,
      curvePublicKey: keys.server.publicKey,
      zapDomain: ZAP_POOL_CONTROL_DOMAIN,
      mandatory: false,
    });
    const host = bindAddress.includes(':') ? `[${bindAddress}]` : bindAddress;
    try {
      await sock.bind(`tcp://${host}:${port === 0 ? '*' : port}`);
      const tcp = sock.lastEndpoint ?? `tcp://${host}:${port}`;
      const ipc = `ipc://${path.join(privateIpcDir(keys.jobId), `head-${process.pid}.sock`)}`;
      await sock.bind(ipc);
      return new Head(sock, tcp, ipc);
    } catch (e) {
      sock.close();
      releaseZapDomain(ZAP_POOL_CONTROL_DOMAIN);
      const code = (e as { code?: string }).code;
      throw new Error(
        code === 'EADDRINUSE'
          ? `cannot serve the pool head on ${bindAddress}:${port}: the port is in use (another cluster?); pick another --port`
          : `cannot serve the pool head on ${bindAddress}:${port}: ${(e as Error).message}`,
      );
    }
  }

  get port(): number {
    return Number(this.tcp.slice(this.tcp.lastIndexOf(':') + 1));
  }

  private async loop(): Promise<void> {
    try {
      for await (const frames of this.sock) {
        const [rid, ...rest] = frames;
        let m: PoolMessage;
        try {
          m = decodePool(rest);
        } catch {
          continue; // malformed frames are dropped, never a crash
        }
        try {
          this.handle(rid, m);
        } catch (e) {
          process.stderr.write(`tsrun pool head: error handling op ${m.op}: ${(e as Error).stack}\n`);
        }
      }
    } catch {
      // closed
    }
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
        this.submit(c, m.body as TaskSpec[]);
        break;
      case PoolOp.PutLocation:
        this.puts(
          c,
          m.body as Array<{
            id: string;
            size: number;
            loc?: Location;
            meta?: import('./protocol.js').BlobMeta;
          }>,
          m.blobs,
        );
        break;
      case PoolOp.Free:
        for (const id of m.body as string[]) {
          const o = this.objects.get(id);
          if (o && o.owner === c) {
            o.held = false;
            this.maybeFree(o);
          }
        }
        break;
      case PoolOp.Pull: {
        const w = this.workerOf(c);
        if (w) w.credit += (m.body as { credit: number }).credit;
        break;
      }
      case PoolOp.Return: {
        const w = this.workerOf(c);
        if (!w) break;
        const back: TaskRec[] = [];
        for (const id of m.body as string[]) {
          const t = w.assigned.get(id);
          if (!t) continue;
          w.assigned.delete(id);
          t.worker = undefined;
          back.push(t);
        }
        for (let i = back.length - 1; i >= 0; i--) this.queue.unshift(back[i]);
        break;
      }
      case PoolOp.Complete:
        this.complete(c, m.body as { credit: number; results: CompletionItem[] }, m.blobs);
        break;
      case PoolOp.Event: {
        const ev = m.body as { id: string; rank: number; value: Uint8Array };
        const t = this.findSpmdTask(ev.id);
        if (t) this.enqueue(t.driver, PoolOp.Event, ev);
        break;
      }
      case PoolOp.SpmdPort:
        this.spmdPort(m.body as { group: string; addr: string; port: number });
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
        this.enqueue(c, PoolOp.StatusReply, this.status());
        break;
      case PoolOp.ActorKill:
        this.actors.kill((m.body as { id: string }).id);
        break;
      case PoolOp.ActorLookup:
        this.actors.lookup(c, m.body as { req: number; name: string });
        break;
      case PoolOp.JobRequest:
        this.onJobRequest(m.body, (answer) => this.sendTo(c, PoolOp.JobReply, answer));
        return;
      case PoolOp.Shutdown:
        this.onShutdown();
        return;
      case PoolOp.Goodbye:
        this.dropClient(c, 'said goodbye');
        return;
    }
    this.scheduleFlush();
  }

  private hello(key: string, rid: Buffer, hello: HelloBody): void {
    const old = this.clients.get(key);
    if (old) this.dropClient(old, 'reconnected');
    const c: Client = { key, rid, id: this.nextClientId++, hello, lastHeard: Date.now(), out: [] };
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
    this.sendTo(c, PoolOp.Welcome, {
      clientId: c.id,
      headIpc: this.ipc,
      headHost: this.host,
      headPid: process.pid,
      workers: this.workers.size,
      dashboard: this.observer !== undefined,
    });
    this.scheduleFlush();
  }

  private workerOf(c: Client): WorkerRec | undefined {
    return c.hello.role === 'worker' ? this.workers.get(c.id) : undefined;
  }

  private submit(driver: Client, specs: TaskSpec[]): void {
    for (const spec of specs) {
      const t: TaskRec = {
        spec,
        driver,
        attempt: 1,
        waiting: 0,
        finished: false,
        submittedAt: taskCounters.submitted(),
      };
      this.objects.set(spec.id, {
        id: spec.id,
        state: 'pending',
        size: 0,
        dependents: [],
        held: true,
        uses: 0,
        owner: driver,
      });
      let failedDep: ObjRec | undefined;
      let biggest: ObjRec | undefined;
      for (const d of spec.deps) {
        const o = this.objects.get(d);
        if (!o) {
          this.finishTask(t, false, undefined, {
            kind: 'object',
            task: d,
            name: 'ObjectLostError',
            stack: '',
            host: '',
            pid: 0,
            attempt: t.attempt,
            message: `argument of ${spec.mod}#${spec.fn} was freed or belongs to another driver`,
          });
          failedDep = o;
          break;
        }
        o.uses += 1;
        if (o.state === 'failed') failedDep = o;
        else if (o.state === 'pending') {
          o.dependents.push(t);
          t.waiting += 1;
        } else if (o.loc && o.size >= AFFINITY_MIN_BYTES && (!biggest || o.size > biggest.size)) biggest = o;
      }
      if (t.finished) continue;
      if (failedDep) {
        this.finishTask(t, false, undefined, failedDep.error);
        continue;
      }
      const most = this.mostCpus();
      if (most > 0 && spec.cpus > most) {
        this.finishTask(t, false, undefined, {
          kind: 'usage',
          task: taskName(spec),
          name: 'PoolUsageError',
          stack: '',
          host: '',
          pid: 0,
          attempt: 0,
          message: `${taskName(spec)} asks for cpus: ${spec.cpus} but the largest worker offers ${most}; lower cpus or start workers with more (cpusPerWorker / TSRUN_POOL_CPUS)`,
        });
        continue;
      }
      if (spec.spmd) {
        this.addSpmd(t);
        continue;
      }
      if (spec.actor) {
        this.actors.submitted(t);
        continue;
      }
      if (biggest?.loc) t.preferred = this.workers.get(biggest.loc.workerId);
      if (t.waiting === 0) this.ready(t);
    }
  }

  private mostCpus(): number {
    let most = 0;
    for (const w of this.workers.values()) if (w.cpus > most) most = w.cpus;
    return most;
  }

  private ready(t: TaskRec): void {
    if (t.spec.spmd) return; // SPMD ranks are placed as a group
    if (t.spec.actor) {
      this.actors.depsReady(t); // actors send their calls in order, from their own queues
      return;
    }
    if (t.preferred && this.workers.has(t.preferred.id) && !t.preferred.actorCpus) {
      t.queuedAt = Date.now();
      t.preferred.affinity.push(t);
    } else this.queue.push(t);
  }

  private puts(
    owner: Client,
    items: Array<{ id: string; size: number; loc?: Location; meta?: import('./protocol.js').BlobMeta }>,
    blobs: Uint8Array[],
  ): void {
    for (const p of items) {
      const inline = p.meta
        ? {
            payloadType: p.meta.payloadType,
            dtype: p.meta.dtype,
            count: p.meta.count,
            frames: blobFrames(p.meta, blobs),
          }
        : undefined;
      this.objects.set(p.id, {
        id: p.id,
        state: 'ready',
        size: p.size,
        loc: p.loc,
        inline,
        dependents: [],
        held: true,
        uses: 0,
        owner,
      });
    }
  }

  private complete(
    c: Client,
    body: { credit: number; results: CompletionItem[] },
    blobs: Uint8Array[],
  ): void {
    const w = this.workerOf(c);
    if (!w) return;
    w.credit += body.credit;
    for (const r of body.results) {
      const t = w.assigned.get(r.id);
      if (!t) continue; // a late report from an attempt already given up on
      w.assigned.delete(r.id);
      w.done += 1;
      t.worker = undefined;
      if (r.ok) {
        const inline = r.meta
          ? {
              payloadType: r.meta.payloadType,
              dtype: r.meta.dtype,
              count: r.meta.count,
              frames: blobFrames(r.meta, blobs),
            }
          : undefined;
        this.finishTask(t, true, { inline, loc: inline ? undefined : w.location, size: r.size });
        continue;
      }
      const e = r.error ?? { name: 'Error', message: 'unknown failure', stack: '' };
      if (t.spec.retryExceptions && t.attempt <= t.spec.maxRetries && !t.spec.spmd) {
        t.attempt += 1;
        this.queue.unshift(t);
        continue;
      }
      this.finishTask(t, false, undefined, {
        kind: 'remote',
        task: `${taskName(t.spec)} (task ${t.spec.id})`,
        name: e.name,
        message: e.message,
        stack: e.stack,
        host: c.hello.hostname,
        pid: c.hello.pid,
        attempt: r.attempt,
      });
    }
  }

  private finishTask(
    t: TaskRec,
    ok: boolean,
    res?: { inline?: StoredObject; loc?: Location; size: number },
    error?: WireErrorInfo,
  ): void {
    if (t.finished) return;
    t.finished = true;
    if (taskCounters.enabled) taskCounters.finished(t.spec.mod, t.spec.fn, t.submittedAt, ok);
    if (t.worker) {
      t.worker.assigned.delete(t.spec.id);
      t.worker = undefined;
    }
    const o = this.objects.get(t.spec.id);
    for (const d of t.spec.deps) {
      const dep = this.objects.get(d);
      if (dep) {
        dep.uses -= 1;
        this.maybeFree(dep);
      }
    }
    if (t.spec.spmd) this.spmdRankDone(t);
    if (t.spec.actor) this.actors.finished(t, ok, error);
    if (!o) return;
    o.state = ok ? 'ready' : 'failed';
    o.inline = res?.inline;
    o.loc = res?.loc;
    o.size = res?.size ?? 0;
    o.error = error;
    const item: DoneItem = { id: o.id, ok, size: o.size, loc: o.loc, error };
    const out = this.outbox(t.driver, PoolOp.Done);
    if (o.inline) item.meta = pushBlob(out.blobs, o.inline);
    out.items.push(item);
    const deps = o.dependents;
    o.dependents = [];
    for (const d of deps) {
      if (d.finished) continue;
      if (!ok) this.finishTask(d, false, undefined, error);
      else {
        d.waiting -= 1;
        if (o.loc && o.size >= AFFINITY_MIN_BYTES) d.preferred ??= this.workers.get(o.loc.workerId);
        if (d.waiting === 0) this.ready(d);
      }
    }
    this.maybeFree(o);
  }

  private maybeFree(o: ObjRec): void {
    if (o.held || o.uses > 0 || o.state === 'pending') return;
    this.objects.delete(o.id);
    if (o.shared || (o.loc && o.loc.workerId !== 0)) this.freed.push(o.id);
  }

  private workerLost(w: WorkerRec, why: string): void {
    if (!this.workers.delete(w.id)) return;
    this.clients.delete(w.client.key);
    const lostObjects: string[] = [];
    for (const o of this.objects.values()) if (o.loc?.workerId === w.id) lostObjects.push(o.id);
    for (const id of lostObjects) {
      const o = this.objects.get(id) as ObjRec;
      o.loc = undefined;
      o.state = 'failed';
      o.error = {
        kind: 'object',
        task: id,
        name: 'ObjectLostError',
        message: `it was held by a worker that died (${why})`,
        stack: '',
        host: w.client.hello.hostname,
        pid: w.client.hello.pid,
        attempt: 0,
      };
      this.outbox(o.owner, PoolOp.Done).items.push({
        id,
        ok: false,
        size: 0,
        error: o.error,
      } satisfies DoneItem);
    }
    const requeue: TaskRec[] = [];
    const actorTasks: TaskRec[] = [];
    for (const t of w.assigned.values()) {
      t.worker = undefined;
      if (t.spec.actor) actorTasks.push(t);
      else if (t.spec.spmd) {
        this.finishTask(t, false, undefined, {
          kind: 'lost',
          task: taskName(t.spec),
          name: 'WorkerLostError',
          message: why,
          stack: '',
          host: w.client.hello.hostname,
          pid: w.client.hello.pid,
          attempt: t.attempt,
        });
      } else if (t.attempt <= t.spec.maxRetries) {
        t.attempt += 1;
        requeue.push(t);
      } else {
        this.finishTask(t, false, undefined, {
          kind: 'lost',
          task: `${taskName(t.spec)} (task ${t.spec.id})`,
          name: 'WorkerLostError',
          message: why,
          stack: '',
          host: w.client.hello.hostname,
          pid: w.client.hello.pid,
          attempt: t.attempt,
        });
      }
    }
    w.assigned.clear();
    this.actors.workerLost(w, why, actorTasks);
    for (let i = requeue.length - 1; i >= 0; i--) this.queue.unshift(requeue[i]);
    for (let t = w.affinity.shift(); t; t = w.affinity.shift()) this.queue.push(t);
    if (w.reservedFor) {
      for (const t of w.reservedFor.tasks) {
        if (!t.finished)
          this.finishTask(t, false, undefined, {
            kind: 'lost',
            task: taskName(t.spec),
            name: 'WorkerLostError',
            message: `a rank of the SPMD group lost its worker (${why})`,
            stack: '',
            host: w.client.hello.hostname,
            pid: w.client.hello.pid,
            attempt: t.attempt,
          });
      }
    }
    this.scheduleFlush();
  }

  private dropClient(c: Client, why: string): void {
    this.clients.delete(c.key);
    if (c.hello.role === 'worker') {
      const w = this.workers.get(c.id);
      if (w) this.workerLost(w, `worker pid ${c.hello.pid} ${why}`);
    } else if (c.hello.role === 'node') {
      for (const w of [...this.workers.values()])
        if (w.nodeKey === c.key) this.workerLost(w, `its node on ${c.hello.hostname} ${why}`);
      this.nodeStats.delete(c.key);
    } else if (c.hello.role === 'driver') {
      this.queue.removeWhere((t) => t.driver === c);
      for (const w of this.workers.values()) w.affinity.removeWhere((t) => t.driver === c);
      this.actors.ownerGone(c);
      for (const o of [...this.objects.values()]) {
        if (o.owner !== c) continue;
        o.held = false;
        for (const t of o.dependents) t.finished = true;
        o.dependents = [];
        if (o.state === 'pending') o.state = 'failed';
        this.maybeFree(o);
      }
    }
  }

  // ---- scheduling -------------------------------------------------------------------------------

  private schedule(): void {
    this.actors.schedule();
    if (this.spmdWaiting.length > 0) {
      this.placeSpmd();
      return; // idle workers are held for the waiting SPMD group, so it cannot starve
    }
    let eligible = 0;
    for (const w of this.workers.values()) if (w.credit > 0 && !w.reservedFor && !w.actorCpus) eligible += 1;
    if (eligible === 0) return;
    let idleLeft = false;
    for (const w of this.workers.values()) {
      if (w.credit <= 0 || w.reservedFor || w.actorCpus) continue;
      const picked = pickTasks(w, this.queue, this.workers.values(), eligible);
      eligible -= 1;
      if (picked.length === 0) idleLeft = true;
      else this.dispatch(w, picked);
    }
    // Tasks waiting for a busy holder become stealable after STEAL_AFTER_MS: look again then.
    if (idleLeft && !this.stealTimer) {
      for (const w of this.workers.values()) {
        if (w.credit > 0 || w.affinity.length === 0) continue;
        this.stealTimer = setTimeout(() => {
          this.stealTimer = undefined;
          this.scheduleFlush();
        }, STEAL_AFTER_MS);
        break;
      }
    }
  }

  private dispatch(w: WorkerRec, tasks: TaskRec[], spmd?: DispatchItem['spmd'][]): void {
    const out = this.outbox(w.client, PoolOp.Dispatch);
    for (let i = 0; i < tasks.length; i++) {
      const t = tasks[i];
      const lost = this.failedDep(t);
      if (lost) {
        // Its argument died with a worker after the task became ready (e.g. it was requeued from there).
        this.finishTask(t, false, undefined, lost.error);
        continue;
      }
      t.worker = w;
      w.assigned.set(t.spec.id, t);
      if (!t.spec.actor) w.credit -= 1; // actor calls go to their actor's worker, outside its credit
      const deps: DispatchItem['deps'] = [];
      for (const d of t.spec.deps) {
        const o = this.objects.get(d);
        if (!o) continue;
        o.shared = true;
        deps.push(o.inline ? { id: d, meta: pushBlob(out.blobs, o.inline) } : { id: d, loc: o.loc });
      }
      const item: DispatchItem = {
        id: t.spec.id,
        mod: t.spec.mod,
        fn: t.spec.fn,
        args: t.spec.args,
        attempt: t.attempt,
        deps,
      };
      if (t.spec.actor) item.actor = t.spec.actor;
      if (spmd?.[i]) item.spmd = spmd[i];
      out.items.push(item);
    }
  }

  private failedDep(t: TaskRec): ObjRec | undefined {
    for (const d of t.spec.deps) {
      const o = this.objects.get(d);
      if (o?.state === 'failed') return o;
    }
    return undefined;
  }

  // ---- SPMD groups -----------------------------------------------------------------------------

  private addSpmd(t: TaskRec): void {
    const s = t.spec.spmd!;
    let g = this.groups.get(s.group);
    if (!g) {
      g = { id: s.group, tasks: [], workers: [], placed: false, finished: 0 };
      this.groups.set(s.group, g);
    }
    g.tasks[s.rank] = t;
    if (g.tasks.filter(Boolean).length < s.size) return;
    if (this.workers.size < s.size) {
      for (const x of g.tasks)
        this.finishTask(x, false, undefined, {
          kind: 'usage',
          task: taskName(x.spec),
          name: 'PoolUsageError',
          stack: '',
          host: '',
          pid: 0,
          attempt: 0,
          message: `spmd needs ${s.size} workers but the cluster has ${this.workers.size}; lower ranks or start more workers`,
        });
      this.groups.delete(g.id);
      return;
    }
    this.spmdWaiting.push(g);
  }

  private placeSpmd(): void {
    const g = this.spmdWaiting[0];
    if (g.tasks.some((t) => t.finished || t.waiting > 0)) {
      if (g.tasks.every((t) => t.finished)) this.spmdWaiting.shift();
      return;
    }
    const idle = [...this.workers.values()].filter(
      (w) => w.assigned.size === 0 && !w.reservedFor && !w.actorCpus && w.credit > 0,
    );
    const size = g.tasks.length;
    if (idle.length < size) return;
    this.spmdWaiting.shift();
    g.workers = idle.slice(0, size);
    for (const w of g.workers) w.reservedFor = g;
    g.placed = true;
    const local = spmdLocalRanks(g.workers.map((w) => w.location.host));
    const t0 = g.tasks[0];
    this.dispatch(g.workers[0], [t0], [{ ...t0.spec.spmd!, ...local[0] }]);
    this.scheduleFlush();
  }

  private spmdPort(b: { group: string; addr: string; port: number }): void {
    const g = this.groups.get(b.group);
    if (!g?.placed) return;
    const local = spmdLocalRanks(g.workers.map((w) => w.location.host));
    for (let r = 1; r < g.tasks.length; r++) {
      const t = g.tasks[r];
      if (t.finished) continue;
      this.dispatch(
        g.workers[r],
        [t],
        [{ ...t.spec.spmd!, ...local[r], masterAddr: b.addr, masterPort: b.port }],
      );
    }
  }

  private spmdRankDone(t: TaskRec): void {
    const g = this.groups.get(t.spec.spmd!.group);
    if (!g) return;
    g.finished += 1;
    if (g.finished < g.tasks.length) return;
    for (const w of g.workers) w.reservedFor = undefined;
    this.groups.delete(g.id);
  }

  private findSpmdTask(id: string): TaskRec | undefined {
    for (const g of this.groups.values()) for (const t of g.tasks) if (t.spec.id === id) return t;
    return undefined;
  }

  // ---- output ----------------------------------------------------------------------------------

  private outbox(c: Client, op: PoolOp): { op: PoolOp; items: unknown[]; blobs: Uint8Array[] } {
    for (const o of c.out) if (o.op === op) return o;
    const o = { op, items: [] as unknown[], blobs: [] as Uint8Array[] };
    c.out.push(o);
    this.scheduleFlush();
    return o;
  }

  private enqueue(c: Client, op: PoolOp, item: unknown): void {
    this.outbox(c, op).items.push(item);
  }

  private sendTo(c: Client, op: PoolOp, body: unknown, blobs?: Uint8Array[]): void {
    if (this.closed) return;
    this.sendQueue.send([c.rid, ...encodePool(op, body, blobs)]).catch(() => {});
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    // A microtask: runs once the current message is handled, before the next one is read, so a
    // batch arriving in one message leaves in one message without an extra event-loop turn.
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    this.schedule();
    if (this.freed.length > 0) {
      const ids = this.freed.splice(0);
      for (const w of this.workers.values()) this.enqueue(w.client, PoolOp.Free, ids);
    }
    for (const c of this.clients.values()) {
      if (c.out.length === 0) continue;
      const outs = c.out;
      c.out = [];
      for (const o of outs) {
        if (o.op === PoolOp.StatusReply) for (const item of o.items) this.sendTo(c, o.op, item);
        else if (o.op === PoolOp.Free) this.sendTo(c, o.op, o.items.flat());
        else this.sendTo(c, o.op, o.items, o.blobs);
      }
    }
  }

  private tick(): void {
    const now = Date.now();
    // A late tick means this process's loop was blocked (an embedded head shares it with the driver):
    // messages may be waiting unread, so silence measured across the stall proves nothing.
    if (now - this.lastTick > 3000) for (const c of this.clients.values()) c.lastHeard = now;
    this.lastTick = now;
    for (const c of [...this.clients.values()]) {
      const limit =
        c.hello.role === 'node' ? NODE_SILENCE_MS : c.hello.role === 'driver' ? DRIVER_SILENCE_MS : 0;
      if (limit > 0 && now - c.lastHeard > limit) this.dropClient(c, `went silent for ${limit} ms`);
      else this.sendTo(c, PoolOp.Heartbeat, 0);
    }
    this.scheduleFlush();
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
    let queued = this.queue.length;
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
      .map((c) =>
        this.sendQueue
          .send([c.rid, ...encodePool(PoolOp.Shutdown, 'the cluster was stopped')])
          .catch(() => {}),
      );
    await Promise.race([Promise.all(sends), new Promise((r) => setTimeout(r, 500))]);
    this.closed = true;
    clearInterval(this.ticker);
    if (this.stealTimer) clearTimeout(this.stealTimer);
    // Give the Shutdown frames a moment on the wire: linger is 0, so close would drop them.
    await new Promise((r) => setTimeout(r, 50));
    this.sock.close();
    releaseZapDomain(ZAP_POOL_CONTROL_DOMAIN);
  }
}

export function taskName(s: TaskSpec): string {
  const file = s.mod.slice(s.mod.lastIndexOf('/') + 1);
  return `${file}#${s.fn}`;
}
