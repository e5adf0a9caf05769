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

/**
 * Counting runs in the head's hot path (tens of thousands of tasks a second), so it keeps no per-task
 * map: the head stores the submission time on its own task record (only when counting) and passes it
 * back at the end, and functions are found by two map lookups on strings the task already holds
 * (module, then export) instead of building a "<file>#<export>" key per task. The display name is made
 * once per function, when read.
 */
export class TaskCounters {
  enabled = false;
  private head?: QueueProbe;
  private readonly byModule = new Map<string, Map<string, FnRec>>();
  private finishedTotal = 0;
  private failedTotal = 0;

  /** The head whose status() gives queued and running. */
  attach(head: QueueProbe): void {
    this.head = head;
  }

  get attached(): boolean {
    return this.head !== undefined;
  }

  /** A timestamp for the head to keep with the task (undefined when not counting). */
  submitted(): number | undefined {
    return this.enabled ? performance.now() : undefined;
  }

  /**
   * Seconds run from submission to the end (queue time included, as `ray list tasks` shows).
   * `mod` is the module URL and `fn` the export; `submittedAt` what submitted() returned.
   */
  finished(mod: string, fn: string, submittedAt: number | undefined, ok: boolean): void {
    if (!this.enabled) return;
    let fns = this.byModule.get(mod);
    if (!fns) {
      fns = new Map();
      this.byModule.set(mod, fns);
    }
    let f = fns.get(fn);
    if (!f) {
      f = { finished: 0, failed: 0, seconds: 0 };
      fns.set(fn, f);
    }
    if (ok) {
      f.finished += 1;
      this.finishedTotal += 1;
      if (submittedAt !== undefined) f.seconds += (performance.now() - submittedAt) / 1000;
    } else {
      f.failed += 1;
      this.failedTotal += 1;
    }
  }

  read(): TaskTotals {
    const s = this.head?.status() ?? {};
    const byFunction: Record<string, FunctionTotals> = {};
    for (const [mod, fns] of this.byModule) {
      const file = mod.slice(mod.lastIndexOf('/') + 1);
      for (const [fn, f] of fns) {
        const name = `${file}#${fn}`;
        const prev = byFunction[name];
        // Two modules with one file name (different folders) share a row, as their names do.
        const finished = (prev?.finished ?? 0) + f.finished;
        const seconds = (prev ? prev.meanSeconds * prev.finished : 0) + f.seconds;
        byFunction[name] = {
          finished,
          failed: (prev?.failed ?? 0) + f.failed,
          meanSeconds: finished > 0 ? seconds / finished : 0,
        };
      }
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
