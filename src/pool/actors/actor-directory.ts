/**
 * The head's side of actors: which worker holds each actor, its calls in submission order, placement
 * (an actor holds `cpus` of a worker for its life; a worker holding any actor takes no tasks), restarts
 * and names. Constructors and calls are ordinary TaskRecs, so the head's object directory, dependency
 * tracking and completions serve them unchanged; this file only decides when and where they go.
 */
import { Deque } from '../deque.js';
import { type WireErrorInfo, wireActorDied, wireUsage } from '../errors.js';
import { PoolOp } from '../protocol.js';
import type { Client, TaskRec, WorkerRec } from '../task-types.js';
import type { ActorCreateInfo, ActorInfoReply, ActorState, ActorSummary } from './actor-types.js';

/** What the directory needs from the head. */
export interface ActorHeadHooks {
  workers(): Iterable<WorkerRec>;
  /** Adds (+1) or drops (-1) a use of an object, so an actor's constructor arguments outlive the first construction. */
  use(objectId: string, delta: 1 | -1): void;
  fail(t: TaskRec, error: WireErrorInfo): void;
  dispatch(w: WorkerRec, t: TaskRec): void;
  send(c: Client, op: PoolOp, item: unknown): void;
}

interface ActorRec {
  id: string;
  create: ActorCreateInfo;
  /** The constructor's task as first submitted; restarts run copies of it. */
  ctor: TaskRec;
  cpus: number;
  owner: Client;
  state: ActorState;
  worker?: WorkerRec;
  host?: string;
  pid?: number;
  restarts: number;
  /** The construction (first or restart) not yet reported finished. */
  creating?: TaskRec;
  /** Calls not yet sent to the worker, in submission order (some may still wait on arguments). */
  queue: Deque<TaskRec>;
  /** Calls sent to the worker and not finished, in submission order. */
  inFlight: Map<string, TaskRec>;
  callsFinished: number;
  cause?: string;
}

export class ActorDirectory {
  private readonly actors = new Map<string, ActorRec>();
  private readonly names = new Map<string, ActorRec>();
  /** Actors with something to place or send: schedule() looks only at these. */
  private readonly dirty = new Set<ActorRec>();

  constructor(private readonly head: ActorHeadHooks) {}

  /** A constructor or call arrived (after its dependency bookkeeping). */
  submitted(t: TaskRec): void {
    const info = t.spec.actor!;
    if (info.create) {
      const name = info.create.name;
      if (name !== undefined && this.names.has(name)) {
        this.head.fail(t, usage(t, `an actor named ${JSON.stringify(name)} already exists in this cluster`));
        return;
      }
      const a: ActorRec = {
        id: info.id,
        create: info.create,
        ctor: t,
        cpus: t.spec.cpus,
        owner: t.driver,
        state: 'PENDING',
        restarts: 0,
        creating: t,
        queue: new Deque(),
        inFlight: new Map(),
        callsFinished: 0,
      };
      this.actors.set(a.id, a);
      if (name !== undefined) this.names.set(name, a);
      for (const d of t.spec.deps) this.head.use(d, 1);
      this.dirty.add(a);
      return;
    }
    const a = this.actors.get(info.id);
    if (!a || a.state === 'DEAD') {
      this.head.fail(
        t,
        died(t, a, a?.cause ?? 'no such actor at the head (never created, or its owner left)'),
      );
      return;
    }
    a.queue.push(t);
    this.dirty.add(a);
  }

  /** Places actors waiting for a worker and sends every actor's ready calls, in order. */
  schedule(): void {
    if (this.dirty.size === 0) return;
    for (const a of [...this.dirty]) {
      if (a.state === 'DEAD') {
        this.dirty.delete(a);
        continue;
      }
      if (!a.worker) {
        const c = a.creating;
        if (!c || c.finished || c.waiting > 0) continue;
        const w = this.placeFor(a.cpus);
        if (!w) continue; // stays dirty: looked at again on the next flush (a worker frees or joins)
        a.worker = w;
        a.host = w.client.hello.hostname;
        a.pid = w.client.hello.pid;
        w.actorCpus += a.cpus;
        this.head.dispatch(w, c);
      }
      for (let t = a.queue.peek(); t; t = a.queue.peek()) {
        if (t.finished) {
          a.queue.shift();
          continue;
        }
        if (t.waiting > 0) break; // a later call must not overtake it
        a.queue.shift();
        a.inFlight.set(t.spec.id, t);
        this.head.dispatch(a.worker, t);
      }
      // Done until a call arrives or the front call's arguments are ready (depsReady).
      if (a.queue.length === 0 || a.queue.peek()!.waiting > 0) this.dirty.delete(a);
    }
  }

  /** An argument of a queued call became ready: its actor may send it now. */
  depsReady(t: TaskRec): void {
    const a = this.actors.get(t.spec.actor!.id);
    if (a) this.dirty.add(a);
  }

  /** A worker with free cpus, preferring one that holds no actor and runs no task. */
  private placeFor(cpus: number): WorkerRec | undefined {
    let best: WorkerRec | undefined;
    let bestScore = -1;
    for (const w of this.head.workers()) {
      if (w.reservedFor || w.cpus - w.actorCpus < cpus) continue;
      const score = (w.actorCpus === 0 ? 2 : 0) + (w.assigned.size === 0 ? 1 : 0);
      if (score > bestScore) {
        best = w;
        bestScore = score;
      }
    }
    return best;
  }

  /** A constructor or call finished (ok or not); the head has already delivered its result. */
  finished(t: TaskRec, ok: boolean, error?: WireErrorInfo): void {
    const a = this.actors.get(t.spec.actor!.id);
    if (!a) return;
    if (t === a.creating) {
      a.creating = undefined;
      if (ok) {
        if (a.state !== 'DEAD') a.state = 'ALIVE';
      } else if (a.state !== 'DEAD') {
        this.die(a, `its constructor threw: ${error?.name ?? 'Error'}: ${error?.message ?? ''}`);
      }
      return;
    }
    if (a.inFlight.delete(t.spec.id) || !ok) a.callsFinished += 1;
  }

  /** The worker died: restart its actors (within maxRestarts) or let them die. */
  workerLost(w: WorkerRec, why: string, tasks: TaskRec[]): void {
    for (const a of this.actors.values()) {
      if (a.worker !== w || a.state === 'DEAD') continue;
      a.worker = undefined;
      a.cause = why;
      if (a.restarts >= a.create.maxRestarts) {
        this.die(a, why);
        continue;
      }
      a.restarts += 1;
      a.state = 'RESTARTING';
      // Calls that were running: retried first (in their order) when maxTaskRetries allows.
      const retry: TaskRec[] = [];
      for (const t of a.inFlight.values()) {
        if (t.attempt <= a.create.maxTaskRetries) {
          t.attempt += 1;
          retry.push(t);
        } else this.head.fail(t, died(t, a, why));
      }
      a.inFlight.clear();
      for (let i = retry.length - 1; i >= 0; i--) a.queue.unshift(retry[i]);
      const c = a.creating && tasks.includes(a.creating) ? a.creating : undefined;
      if (c) c.attempt += 1;
      else {
        // A copy of the constructor's task: it takes its own uses of the arguments (finishing drops them).
        for (const d of a.ctor.spec.deps) this.head.use(d, 1);
        a.creating = {
          ...a.ctor,
          spec: { ...a.ctor.spec, id: `${a.id}.restart${a.restarts}` },
          attempt: a.restarts + 1,
          waiting: 0,
          finished: false,
          worker: undefined,
          preferred: undefined,
        };
      }
      this.dirty.add(a);
    }
  }

  /** Stops an actor for good (kill, a throwing constructor, restarts exhausted, its owner left). */
  private die(a: ActorRec, cause: string): void {
    a.state = 'DEAD';
    a.cause = cause;
    const w = a.worker;
    a.worker = undefined;
    if (w) {
      w.actorCpus -= a.cpus;
      this.head.send(w.client, PoolOp.ActorStop, { id: a.id });
    }
    if (a.create.name !== undefined && this.names.get(a.create.name) === a) this.names.delete(a.create.name);
    const pending = [...a.inFlight.values()];
    for (let t = a.queue.shift(); t; t = a.queue.shift()) pending.push(t);
    a.inFlight.clear();
    for (const t of pending) this.head.fail(t, died(t, a, cause));
    if (a.creating && !a.creating.finished) this.head.fail(a.creating, died(a.creating, a, cause));
    a.creating = undefined;
    for (const d of a.ctor.spec.deps) this.head.use(d, -1);
    this.dirty.delete(a);
  }

  kill(id: string): void {
    const a = this.actors.get(id);
    if (a && a.state !== 'DEAD') this.die(a, 'killed by kill()');
  }

  lookup(c: Client, body: { req: number; name: string }): void {
    const a = this.names.get(body.name);
    const reply: ActorInfoReply = a
      ? { req: body.req, found: true, id: a.id, mod: a.ctor.spec.mod, cls: a.create.cls }
      : { req: body.req, found: false };
    this.head.send(c, PoolOp.ActorInfo, reply);
  }

  /** A driver left: its actors die with it (as Ray's non-detached actors); its queued calls are dropped. */
  ownerGone(c: Client): void {
    for (const a of this.actors.values()) {
      if (a.state === 'DEAD') continue;
      if (a.owner === c) this.die(a, `its owner (driver pid ${c.hello.pid}) left`);
      else
        a.queue.removeWhere((t) => {
          if (t.driver === c) t.finished = true;
          return t.driver === c;
        });
    }
  }

  summary(): ActorSummary[] {
    const out: ActorSummary[] = [];
    for (const a of this.actors.values()) {
      out.push({
        id: a.id,
        cls: a.create.cls,
        name: a.create.name,
        state: a.state,
        restarts: a.restarts,
        host: a.host,
        pid: a.pid,
        callsFinished: a.callsFinished,
        queued: a.queue.length + a.inFlight.size,
        cause: a.cause,
      });
    }
    return out;
  }
}

function label(t: TaskRec, a?: ActorRec): string {
  const cls = a?.create.cls ?? t.spec.mod.slice(t.spec.mod.lastIndexOf('/') + 1);
  const who = a?.create.name !== undefined ? ` '${a.create.name}'` : ` ${t.spec.actor!.id}`;
  const m = t.spec.actor!.method;
  return `actor ${cls}${who}${m ? `.${m}` : ' (constructor)'}`;
}

function died(t: TaskRec, a: ActorRec | undefined, cause: string): WireErrorInfo {
  return wireActorDied(label(t, a), cause, { host: a?.host ?? '', pid: a?.pid ?? 0, attempt: t.attempt });
}

function usage(t: TaskRec, message: string): WireErrorInfo {
  return wireUsage(label(t), message);
}
