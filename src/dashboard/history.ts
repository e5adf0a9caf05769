/** The charts' history: one sample a second for the last 15 minutes, in a fixed ring. */
import type { HistorySample } from '../telemetry/state-types.js';

export const HISTORY_SECONDS = 15 * 60;

export class History {
  private readonly samples: HistorySample[] = [];
  private next = 0;

  constructor(private readonly capacity = HISTORY_SECONDS) {}

  push(s: HistorySample): void {
    if (this.samples.length < this.capacity) this.samples.push(s);
    else this.samples[this.next] = s;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Oldest first. */
  all(): HistorySample[] {
    if (this.samples.length < this.capacity) return this.samples.slice();
    return [...this.samples.slice(this.next), ...this.samples.slice(0, this.next)];
  }

  get length(): number {
    return this.samples.length;
  }
}
