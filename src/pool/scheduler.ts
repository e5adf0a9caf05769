/**
 * The head's scheduler: a task's life from submission to its result. Tasks wait for their arguments,
 * then queue (shared, or at the worker holding their largest argument), go to workers by credit, and
 * finish, retry or fail; SPMD ranks go to spmd-gangs.ts and actor work to actors/actor-directory.ts.
 * Which queued tasks a worker gets is the pure policy pickTasks() at the end of this file.
 *
 * Scheduling is pull-based: a worker announces credit (how many tasks it will hold) and returns credit
 * with each batch of completions, so fast workers pull more.
 *
 * Slightly over the pool's ~350-line mark on purpose: waiting, queueing, dispatch and retry are the
 * transitions of one TaskRec, and split across files they would each need the others' private state.
 */
import { taskCounters } from '../telemetry/task-counters.js';
import { ActorDirectory } from './actors/actor-directory.js';
import { Deque } from './deque.js';
import {
  type WireErrorInfo,
  wireArgumentFreed,
  wireRemoteFailure,
  wireTooManyCpus,
  wireWorkerLost,
} from './errors.js';
import type { ObjectDirectory, TaskResult } from './object-directory.js';
import type { Outbox } from './outbox.js';
import { PoolOp, pushBlob, storedFromBlobs } from './protocol.js';
import { SpmdGangs } from './spmd-gangs.js';
import {
  type Client,
  type CompletionItem,
  type DispatchItem,
  type ObjRec,
  type TaskRec,
  type TaskSpec,
  taskName,
  type WorkerRec,
} from './task-types.js';

/** Objects at least this large pull their dependent tasks toward the worker holding them. */
const AFFINITY_MIN_BYTES = 1 << 20;
/** A task waiting for the worker that holds its argument is stolen by an idle worker after this long. */
export const STEAL_AFTER_MS = 50;

export class Scheduler {
  readonly queue = new Deque<TaskRec>();
  readonly gangs: SpmdGangs;
  readonly actors: ActorDirectory;
  private stealTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly workers: Map<number, WorkerRec>,
    private readonly objects: ObjectDirectory,
    private readonly outbox: Outbox,
  ) {
    this.gangs = new SpmdGangs({
      workers: () => this.workers,
      fail: (t, error) => this.finishTask(t, false, undefined, error),
      dispatch: (w, tasks, spmd) => this.dispatch(w, tasks, spmd),
      scheduleFlush: () => this.outbox.scheduleFlush(),
    });
    this.actors = new ActorDirectory({
      workers: () => this.workers.values(),
      use: (id, delta) => this.objects.use(id, delta),
      fail: (t, error) => this.finishTask(t, false, undefined, error),
      dispatch: (w, t) => this.dispatch(w, [t]),
      send: (c, op, item) => this.outbox.enqueue(c, op, item),
    });
  }

  submit(driver: Client, specs: TaskSpec[]): void {
    for (const spec of specs) {
      const t: TaskRec = {
        spec,
        driver,
        attempt: 1,
        waiting: 0,
        finished: false,
        submittedAt: taskCounters.submitted(),
      };
      this.objects.addPending(spec.id, driver);
      let failedDep: ObjRec | undefined;
      let biggest: ObjRec | undefined;
      for (const d of spec.deps) {
        const o = this.objects.get(d);
        if (!o) {
          this.finishTask(t, false, undefined, wireArgumentFreed(d, `${spec.mod}#${spec.fn}`, t.attempt));
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
        this.finishTask(t, false, undefined, wireTooManyCpus(taskName(spec), spec.cpus, most));
        continue;
      }
      if (spec.spmd) {
        this.gangs.add(t);
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

  /** Tasks w handed back unstarted (its current task ran long): they go first in the queue again. */
  returned(w: WorkerRec, ids: string[]): void {
    const back: TaskRec[] = [];
    for (const id of ids) {
      const t = w.assigned.get(id);
      if (!t) continue;
      w.assigned.delete(id);
      t.worker = undefined;
      back.push(t);
    }
    for (let i = back.length - 1; i >= 0; i--) this.queue.unshift(back[i]);
  }

  complete(w: WorkerRec, body: { credit: number; results: CompletionItem[] }, blobs: Uint8Array[]): void {
    w.credit += body.credit;
    const { hostname: host, pid } = w.client.hello;
    for (const r of body.results) {
      const t = w.assigned.get(r.id);
      if (!t) continue; // a late report from an attempt already given up on
      w.assigned.delete(r.id);
      w.done += 1;
      t.worker = undefined;
      if (r.ok) {
        const inline = r.meta ? storedFromBlobs(r.meta, blobs) : undefined;
        this.finishTask(t, true, { inline, loc: inline ? undefined : w.location, size: r.size });
        continue;
      }
      if (t.spec.retryExceptions && t.attempt <= t.spec.maxRetries && !t.spec.spmd) {
        t.attempt += 1;
        this.queue.unshift(t);
        continue;
      }
      const task = `${taskName(t.spec)} (task ${t.spec.id})`;
      this.finishTask(
        t,
        false,
        undefined,
        wireRemoteFailure(task, r.error, { host, pid, attempt: r.attempt }),
      );
    }
  }

  finishTask(t: TaskRec, ok: boolean, res?: TaskResult, error?: WireErrorInfo): void {
    if (t.finished) return;
    t.finished = true;
    if (taskCounters.enabled) taskCounters.finished(t.spec.mod, t.spec.fn, t.submittedAt, ok);
    if (t.worker) {
      t.worker.assigned.delete(t.spec.id);
      t.worker = undefined;
    }
    const o = this.objects.get(t.spec.id);
    for (const d of t.spec.deps) this.objects.use(d, -1);
    if (t.spec.spmd) this.gangs.rankDone(t);
    if (t.spec.actor) this.actors.finished(t, ok, error);
    if (!o) return;
    this.objects.settle(o, t.driver, ok, res, error);
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
    this.objects.maybeFree(o);
  }

  /** w died (already out of the worker table): its tasks retry elsewhere or fail. */
  workerLost(w: WorkerRec, why: string): void {
    const { hostname: host, pid } = w.client.hello;
    const requeue: TaskRec[] = [];
    const actorTasks: TaskRec[] = [];
    for (const t of w.assigned.values()) {
      t.worker = undefined;
      if (t.spec.actor) actorTasks.push(t);
      else if (t.spec.spmd) {
        this.finishTask(
          t,
          false,
          undefined,
          wireWorkerLost(taskName(t.spec), why, { host, pid, attempt: t.attempt }),
        );
      } else if (t.attempt <= t.spec.maxRetries) {
        t.attempt += 1;
        requeue.push(t);
      } else {
        const task = `${taskName(t.spec)} (task ${t.spec.id})`;
        this.finishTask(t, false, undefined, wireWorkerLost(task, why, { host, pid, attempt: t.attempt }));
      }
    }
    w.assigned.clear();
    this.actors.workerLost(w, why, actorTasks);
    for (let i = requeue.length - 1; i >= 0; i--) this.queue.unshift(requeue[i]);
    for (let t = w.affinity.shift(); t; t = w.affinity.shift()) this.queue.push(t);
    this.gangs.workerLost(w, why);
  }

  /** A driver left: its queued tasks go (its objects go with the directory's ownerGone). */
  driverGone(c: Client): void {
    this.queue.removeWhere((t) => t.driver === c);
    for (const w of this.workers.values()) w.affinity.removeWhere((t) => t.driver === c);
    this.actors.ownerGone(c);
  }

  /** Hands queued tasks to workers with credit (runs before every flush). */
  schedule(): void {
    this.actors.schedule();
    if (this.gangs.hasWaiting) {
      this.gangs.place();
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
          this.outbox.scheduleFlush();
        }, STEAL_AFTER_MS);
        break;
      }
    }
  }

  dispatch(w: WorkerRec, tasks: TaskRec[], spmd?: DispatchItem['spmd'][]): void {
    const out = this.outbox.box(w.client, PoolOp.Dispatch);
    for (let i = 0; i < tasks.length; i++) {
      const t = tasks[i];
      const lost = this.objects.failedDep(t);
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

  close(): void {
    if (this.stealTimer) clearTimeout(this.stealTimer);
  }
}

/**
 * Tasks for worker w: first those that prefer it (their largest argument lives there), then the shared
 * queue, then tasks waiting for other workers (stealing keeps everyone busy). A worker takes at most
 * its fair share of the backlog, so one fast puller cannot hoard tasks that idle workers could run.
 * Tasks asking for more cpus than w offers stay queued for a larger worker.
 */
export function pickTasks(
  w: WorkerRec,
  queue: Deque<TaskRec>,
  workers: Iterable<WorkerRec>,
  eligible: number,
): TaskRec[] {
  let backlog = queue.length + w.affinity.length;
  const all = [...workers];
  for (const o of all) if (o !== w && o.credit <= 0) backlog += o.affinity.length;
  const share = Math.max(1, Math.ceil(backlog / Math.max(1, eligible)));
  const n = Math.min(w.credit, share);
  const out: TaskRec[] = [];
  const skipped: TaskRec[] = [];
  const take = (q: Deque<TaskRec>) => {
    while (out.length < n && q.length > 0) {
      const t = q.shift() as TaskRec;
      if (t.finished) continue;
      if (t.spec.cpus > w.cpus) skipped.push(t);
      else out.push(t);
    }
  };
  take(w.affinity);
  take(queue);
  // Steal only from workers that cannot take work now, and only tasks that waited STEAL_AFTER_MS: the
  // holder usually drains its own queue sooner, and moving the task means moving its large argument.
  const now = Date.now();
  for (const o of all) {
    if (o === w || o.credit > 0) continue;
    while (out.length < n && o.affinity.length > 0) {
      const t = o.affinity.peek() as TaskRec;
      if (!t.finished && now - (t.queuedAt ?? 0) < STEAL_AFTER_MS) break;
      o.affinity.shift();
      if (t.finished) continue;
      if (t.spec.cpus > w.cpus) skipped.push(t);
      else out.push(t);
    }
  }
  for (let i = skipped.length - 1; i >= 0; i--) queue.unshift(skipped[i]);
  return out;
}
