import type { Cell } from './grid.js';

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec)) return '?';
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/**
 * One line per cell on stderr: `cell 3/20 <stem> ... | elapsed 1m02s | ETA 4m30s`. The ETA assumes a
 * cell still to run takes as long as the mean of the finished cells of the same experiment (or of
 * all finished cells), since the CNN cells take far longer than the graph ones.
 */
export class GridProgress {
  private readonly t0 = performance.now();
  private readonly durations = new Map<string, number[]>();
  private index = 0;
  private remaining: Cell[];

  constructor(
    private readonly cells: Cell[],
    private readonly stream: NodeJS.WritableStream = process.stderr,
  ) {
    this.remaining = [...cells];
  }

  get elapsedSeconds(): number {
    return (performance.now() - this.t0) / 1000;
  }

  private mean(experiment: string): number | undefined {
    const own = this.durations.get(experiment);
    const all = [...this.durations.values()].flat();
    const xs = own && own.length > 0 ? own : all;
    return xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined;
  }

  /** Seconds left for the cells not yet finished, or undefined before the first cell has run. */
  etaSeconds(): number | undefined {
    let total = 0;
    for (const c of this.remaining) {
      const m = this.mean(c.experiment);
      if (m === undefined) return undefined;
      total += m;
    }
    return total;
  }

  private line(text: string): void {
    const eta = this.etaSeconds();
    this.stream.write(
      `[run-all] ${text} | elapsed ${formatDuration(this.elapsedSeconds)} | ETA ${eta === undefined ? '?' : formatDuration(eta)}\n`,
    );
  }

  start(cell: Cell): void {
    this.index++;
    this.line(`cell ${this.index}/${this.cells.length} ${cell.stem}: running`);
  }

  /** A cell that already had a result: counted, but not in the ETA means (it took no time). */
  skip(cell: Cell): void {
    this.index++;
    this.remaining = this.remaining.filter((c) => c !== cell);
    this.line(`cell ${this.index}/${this.cells.length} ${cell.stem}: done before, skipped (--force reruns)`);
  }

  finish(cell: Cell, ok: boolean, seconds: number, detail = ''): void {
    this.remaining = this.remaining.filter((c) => c !== cell);
    const list = this.durations.get(cell.experiment) ?? [];
    list.push(seconds);
    this.durations.set(cell.experiment, list);
    this.line(
      `cell ${this.index}/${this.cells.length} ${cell.stem}: ${ok ? 'ok' : 'FAILED'} in ${formatDuration(seconds)}${detail ? ` ${detail}` : ''}`,
    );
  }

  /** A line while a long cell runs, so a user sees the run is alive. */
  still(cell: Cell, seconds: number): void {
    this.line(
      `cell ${this.index}/${this.cells.length} ${cell.stem}: still running after ${formatDuration(seconds)}`,
    );
  }
}
