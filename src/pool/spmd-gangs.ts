/**
 * Gang scheduling of spmd() calls: the ranks of a group start together on distinct idle workers, which
 * stay reserved for the group until every rank finished. Rank 0 goes first; it binds the group's
 * rendezvous port and reports it (SpmdPort), and only then are the other ranks sent, with that address.
 * While a group waits, idle workers are held for it, so a stream of small tasks cannot starve it.
 */
import { type WireErrorInfo, wireSpmdPeerLost, wireSpmdTooFewWorkers } from './errors.js';
import type { DispatchItem, SpmdGroup, TaskRec, WorkerRec } from './task-types.js';
import { taskName } from './task-types.js';

/** What the gangs need from the scheduler. */
export interface GangHooks {
  workers(): Map<number, WorkerRec>;
  fail(t: TaskRec, error: WireErrorInfo): void;
  dispatch(w: WorkerRec, tasks: TaskRec[], spmd: DispatchItem['spmd'][]): void;
  scheduleFlush(): void;
}

export class SpmdGangs {
  private readonly groups = new Map<string, SpmdGroup>();
  private readonly waiting: SpmdGroup[] = [];

  constructor(private readonly hooks: GangHooks) {}

  /** A group is waiting for enough idle workers. */
  get hasWaiting(): boolean {
    return this.waiting.length > 0;
  }

  /** A rank was submitted (after its dependency bookkeeping); the group waits once all ranks are in. */
  add(t: TaskRec): void {
    const s = t.spec.spmd!;
    let g = this.groups.get(s.group);
    if (!g) {
      g = { id: s.group, tasks: [], workers: [], placed: false, finished: 0 };
      this.groups.set(s.group, g);
    }
    g.tasks[s.rank] = t;
    if (g.tasks.filter(Boolean).length < s.size) return;
    const workers = this.hooks.workers().size;
    if (workers < s.size) {
      for (const x of g.tasks) this.hooks.fail(x, wireSpmdTooFewWorkers(taskName(x.spec), s.size, workers));
      this.groups.delete(g.id);
      return;
    }
    this.waiting.push(g);
  }

  /** Places the first waiting group if enough workers are idle, starting with its rank 0. */
  place(): void {
    const g = this.waiting[0];
    if (g.tasks.some((t) => t.finished || t.waiting > 0)) {
      if (g.tasks.every((t) => t.finished)) this.waiting.shift();
      return;
    }
    const idle = [...this.hooks.workers().values()].filter(
      (w) => w.assigned.size === 0 && !w.reservedFor && !w.actorCpus && w.credit > 0,
    );
    const size = g.tasks.length;
    if (idle.length < size) return;
    this.waiting.shift();
    g.workers = idle.slice(0, size);
    for (const w of g.workers) w.reservedFor = g;
    g.placed = true;
    const local = spmdLocalRanks(g.workers.map((w) => w.location.host));
    const t0 = g.tasks[0];
    this.hooks.dispatch(g.workers[0], [t0], [{ ...t0.spec.spmd!, ...local[0] }]);
    this.hooks.scheduleFlush();
  }

  /** Rank 0 bound the group's rendezvous: the other ranks can start. */
  port(b: { group: string; addr: string; port: number }): void {
    const g = this.groups.get(b.group);
    if (!g?.placed) return;
    const local = spmdLocalRanks(g.workers.map((w) => w.location.host));
    for (let r = 1; r < g.tasks.length; r++) {
      const t = g.tasks[r];
      if (t.finished) continue;
      this.hooks.dispatch(
        g.workers[r],
        [t],
        [{ ...t.spec.spmd!, ...local[r], masterAddr: b.addr, masterPort: b.port }],
      );
    }
  }

  /** A rank finished (either way); the last one frees the group's workers. */
  rankDone(t: TaskRec): void {
    const g = this.groups.get(t.spec.spmd!.group);
    if (!g) return;
    g.finished += 1;
    if (g.finished < g.tasks.length) return;
    for (const w of g.workers) w.reservedFor = undefined;
    this.groups.delete(g.id);
  }

  /** The rank whose task id is id (for its events), if its group is still running. */
  findTask(id: string): TaskRec | undefined {
    for (const g of this.groups.values()) for (const t of g.tasks) if (t.spec.id === id) return t;
    return undefined;
  }

  /** w died: every unfinished rank of the group it was reserved for fails. */
  workerLost(w: WorkerRec, why: string): void {
    if (!w.reservedFor) return;
    const { hostname: host, pid } = w.client.hello;
    for (const t of w.reservedFor.tasks) {
      if (!t.finished)
        this.hooks.fail(t, wireSpmdPeerLost(taskName(t.spec), why, { host, pid, attempt: t.attempt }));
    }
  }
}

/** LOCAL_RANK / LOCAL_WORLD_SIZE of each rank, from the host of the worker it was placed on. */
export function spmdLocalRanks(hosts: string[]): Array<{ localRank: number; localSize: number }> {
  const count = new Map<string, number>();
  for (const h of hosts) count.set(h, (count.get(h) ?? 0) + 1);
  const seen = new Map<string, number>();
  return hosts.map((h) => {
    const localRank = seen.get(h) ?? 0;
    seen.set(h, localRank + 1);
    return { localRank, localSize: count.get(h) as number };
  });
}
