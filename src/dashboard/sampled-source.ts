/**
 * What every dashboard source (this host's job, an SSH job's hosts, a pool cluster) does the same way: one
 * sample a second (its own readings, then the state), a chart point from it kept for 15 minutes, and the
 * state and point pushed to subscribers (the server's event streams). Subclasses say how to read.
 */

import type { DashboardState, HistorySample } from '../telemetry/state-types.js';
import { History } from './history.js';
import { RateTracker } from './state-summary.js';

export const SAMPLE_EVERY_MS = 1000;

export abstract class SampledSource {
  private readonly history = new History();
  private readonly rates = new RateTracker();
  private readonly listeners = new Set<(s: DashboardState, h: HistorySample) => void>();
  private timer?: NodeJS.Timeout;

  abstract state(): DashboardState;
  abstract logs(rank: number, tail: number): string[] | undefined;

  /** Takes this source's own readings (host, processes) before each sample's state is built. */
  protected refresh(): void {}

  /** Samples now, then once a second; the timer never keeps the process alive. */
  start(): void {
    this.sample();
    this.timer ??= setInterval(() => this.sample(), SAMPLE_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Called with every new state (once a second, and on changes pushed between samples). */
  subscribe(cb: (s: DashboardState, h: HistorySample) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  sample(): void {
    this.refresh();
    const s = this.state();
    const h = this.rates.point(s);
    this.history.push(h);
    for (const cb of this.listeners) cb(s, h);
  }

  /** Pushes a change seen between samples (a rank's exit) with the newest chart point. */
  protected pushNow(): void {
    const all = this.history.all();
    const last = all[all.length - 1];
    if (!last) return;
    const s = this.state();
    for (const cb of this.listeners) cb(s, last);
  }

  samples(): HistorySample[] {
    return this.history.all();
  }
}
