/**
 * Placement policy of the head, apart from its bookkeeping: which queued tasks a worker that has credit
 * gets, and the local ranks of an SPMD group.
 */
import type { Deque } from './deque.js';
import type { TaskRec, WorkerRec } from './head.js';

/** A task waiting for the worker that holds its argument is stolen by an idle worker after this long. */
export const STEAL_AFTER_MS = 50;

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
