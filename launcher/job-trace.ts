/**
 * `tsrun --trace FILE.json`: every rank (and every pool worker it starts) records its timeline into a
 * private directory given as TSRUN_TRACE_DIR; the launcher adds its own track (restarts and failures as
 * instant events) and, when the job ends, merges everything into FILE (write, then rename). With
 * --hostfile each host's agent sends its parts back in a `trace` control event.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeTraceParts } from '../src/trace/chrome-trace.js';
import { nowUs, readParts, wallMinusMonoUs } from '../src/trace/recorder.js';
import type { TraceEvent, TracePart } from '../src/trace/trace-types.js';

export class JobTrace {
  readonly dir = mkdtempSync(join(tmpdir(), 'tsrun-trace-'));
  private readonly events: TraceEvent[] = [];
  private readonly remote: TracePart[] = [];

  constructor(private readonly file: string) {}

  /** The job-wide marks (restart, failure) drawn across every track. */
  instant(name: string, args: Record<string, unknown>): void {
    this.events.push({ name, cat: 'job', ph: 'i', s: 'g', ts: nowUs(), args });
  }

  addRemote(parts: TracePart[]): void {
    this.remote.push(...parts);
  }

  /** Merges and writes the file; returns how many processes it holds. */
  write(meta: Record<string, unknown>): number {
    const own: TracePart = {
      host: hostname(),
      pid: process.pid,
      thread: 'tsrun (launcher)',
      sortIndex: -1,
      offsetUs: 0,
      offsetRttUs: 0,
      offsetMeasured: false,
      wallMinusMonoUs: wallMinusMonoUs(),
      events: this.events,
    };
    const parts = [own, ...readParts(this.dir), ...this.remote];
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(mergeTraceParts(parts, meta)));
    renameSync(tmp, this.file);
    rmSync(this.dir, { recursive: true, force: true });
    return parts.length - 1;
  }
}
