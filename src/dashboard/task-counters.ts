/**
 * Task totals of the pool head in this process, for the dashboard: finished / failed and mean seconds per
 * function (`<module file>#<export>`), plus the head's own queued / running figures. The head calls
 * submitted() and finished(); both return at once unless a dashboard turned counting on, so a head without
 * a dashboard pays one branch per task.
 */
export interface FunctionTotals {
  finished: number;
  failed: number;
  meanSeconds: number;
}

export interface TaskTotals {
  queued: number;
  running: number;
  finished: number;
  failed: number;
  byFunction: Record<string, FunctionTotals>;
}

interface QueueProbe {
  status(): Record<string, unknown>;
}

interface FnRec {
  finished: number;
  failed: number;
  seconds: number;
}

export class TaskCounters {
  enabled = false;
  private head?: QueueProbe;
  private readonly startedAt = new Map<string, number>();
  private readonly byFunction = new Map<string, FnRec>();
  private finishedTotal = 0;
  private failedTotal = 0;

  /** The head whose status() gives queued and running. */
  attach(head: QueueProbe): void {
    this.head = head;
  }

  get attached(): boolean {
    return this.head !== undefined;
  }

  submitted(taskId: string): void {
    if (!this.enabled) return;
    this.startedAt.set(taskId, performance.now());
  }

  /** Seconds run from submission to the end (queue time included, as `ray list tasks` shows). */
  finished(taskId: string, name: string, ok: boolean): void {
    if (!this.enabled) return;
    const t0 = this.startedAt.get(taskId);
    this.startedAt.delete(taskId);
    let f = this.byFunction.get(name);
    if (!f) {
      f = { finished: 0, failed: 0, seconds: 0 };
      this.byFunction.set(name, f);
    }
    if (ok) {
      f.finished += 1;
      this.finishedTotal += 1;
      if (t0 !== undefined) f.seconds += (performance.now() - t0) / 1000;
    } else {
      f.failed += 1;
      this.failedTotal += 1;
    }
  }

  read(): TaskTotals {
    const s = this.head?.status() ?? {};
    const byFunction: Record<string, FunctionTotals> = {};
    for (const [name, f] of this.byFunction) {
      byFunction[name] = {
        finished: f.finished,
        failed: f.failed,
        meanSeconds: f.finished > 0 ? f.seconds / f.finished : 0,
      };
    }
    return {
      queued: Number(s.queued ?? 0),
      running: Number(s.running ?? 0),
      finished: this.finishedTotal,
      failed: this.failedTotal,
      byFunction,
    };
  }
}

/** The one instance of this process (a process runs at most one head). */
export const taskCounters = new TaskCounters();
if (process.env.TSRUN_DASHBOARD_REPORT === '1') taskCounters.enabled = true;
