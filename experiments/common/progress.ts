/**
 * Progress lines on stderr: `label 3/10 blocks 1.25 blocks/s ETA 5.6s`. Lines, not a redrawn bar,
 * because several ranks share one terminal (and `--tag-output` prefixes each line).
 */
export class Progress {
  private done = 0;
  private readonly t0 = performance.now();

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly unit = 'items',
    private readonly stream: NodeJS.WritableStream = process.stderr,
  ) {}

  /** Records `n` finished items and prints one line; `extra` is appended (e.g. a block's score). */
  tick(n = 1, extra = ''): void {
    this.done += n;
    const sec = (performance.now() - this.t0) / 1000;
    const rate = sec > 0 ? this.done / sec : 0;
    const left = this.total - this.done;
    const eta = rate > 0 && left > 0 ? ` ETA ${(left / rate).toFixed(1)}s` : '';
    const tail = extra ? ` ${extra}` : '';
    this.stream.write(
      `${this.label} ${this.done}/${this.total} ${this.unit} ${rate.toFixed(2)} ${this.unit}/s${eta}${tail}\n`,
    );
  }

  /** Prints a free-form line under the same label (e.g. an iteration's L1 change). */
  note(text: string): void {
    this.stream.write(`${this.label} ${text}\n`);
  }

  /** Seconds since construction. */
  get seconds(): number {
    return (performance.now() - this.t0) / 1000;
  }
}
