/**
 * The last lines a rank printed (stdout and stderr interleaved, as they arrived), for `/api/logs`. A fixed
 * ring of lines: old lines are overwritten, so a chatty rank costs bounded memory.
 */

import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

export const LOG_LINES_KEPT = 2000;
/** Lines of one process relayed to another per second at most (SSH agents, pool node agents). */
export const RELAY_LINES = 500;
/** A line longer than this is cut: the viewer is for reading, not for dumps. */
const MAX_LINE_CHARS = 4000;

export class LogRing {
  private readonly lines: string[] = [];
  private next = 0;
  private partial = '';
  /** Complete lines added since the last drainNew(). */
  private fresh = 0;

  constructor(private readonly capacity = LOG_LINES_KEPT) {}

  push(text: string): void {
    const all = this.partial + text;
    let start = 0;
    for (let nl = all.indexOf('\n'); nl !== -1; nl = all.indexOf('\n', start)) {
      this.add(all.slice(start, nl));
      start = nl + 1;
    }
    this.partial = all.slice(start).slice(-MAX_LINE_CHARS);
  }

  /** Also follows a stream (its own decoder, so a UTF-8 character split across chunks stays whole). */
  follow(stream: Readable | null | undefined): void {
    if (!stream) return;
    const dec = new StringDecoder('utf8');
    stream.on('data', (d: Buffer | string) => this.push(typeof d === 'string' ? d : dec.write(d)));
  }

  private add(line: string): void {
    const l = line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line;
    if (this.lines.length < this.capacity) this.lines.push(l);
    else this.lines[this.next] = l;
    this.next = (this.next + 1) % this.capacity;
    this.fresh += 1;
  }

  /**
   * The complete lines added since the last call, at most `max` (the newest), for relaying to another
   * process; `skipped` counts the older ones left out.
   */
  drainNew(max: number): { lines: string[]; skipped: number } {
    const n = Math.min(this.fresh, this.lines.length);
    const take = Math.min(n, max);
    const skipped = this.fresh - take;
    this.fresh = 0;
    if (take === 0) return { lines: [], skipped };
    return { lines: this.ordered().slice(-take), skipped };
  }

  /**
   * What to relay now: drainNew(RELAY_LINES), led by a line saying how many older lines were left out
   * (`who` names the process in it); `final` (the process is gone) also relays a pending partial line.
   */
  relayNew(final: boolean, who = ''): string[] {
    if (final) this.flushPartial();
    const { lines, skipped } = this.drainNew(RELAY_LINES);
    if (skipped > 0) lines.unshift(`[tsrun dashboard: ${skipped} lines${who} not relayed]`);
    return lines;
  }

  /** Ends the pending partial line (the process exited without a final newline). */
  flushPartial(): void {
    if (this.partial) this.add(this.partial);
    this.partial = '';
  }

  /** The last n lines, oldest first, with a pending partial line at the end. */
  tail(n: number): string[] {
    const out = this.ordered().slice(-n);
    if (this.partial) out.push(this.partial);
    return out.slice(-n);
  }

  /** The kept lines, oldest first. */
  private ordered(): string[] {
    return this.lines.length < this.capacity
      ? this.lines
      : [...this.lines.slice(this.next), ...this.lines.slice(0, this.next)];
  }
}
