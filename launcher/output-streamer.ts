/**
 * Streams each rank's stdout/stderr through tsrun: raw when untagged (no added latency), split into lines
 * and prefixed with `[rank]` under --tag-output, and appended to `<log-dir>/rank-<r>.log` with --log-dir.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

export interface OutputOptions {
  tagOutput: boolean;
  logDir?: string;
  stdout?: Writable;
  stderr?: Writable;
}

/** Calls `emit` once per complete line; a trailing partial line is flushed on end. */
function forEachLine(stream: Readable, emit: (line: string) => void): void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const text = partial + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl !== -1; nl = text.indexOf('\n', start)) {
      emit(text.slice(start, nl + 1));
      start = nl + 1;
    }
    partial = text.slice(start);
  });
  stream.on('end', () => {
    if (partial) emit(partial + '\n');
    partial = '';
  });
}

export class OutputStreamer {
  private readonly logs: WriteStream[] = [];
  private readonly out: Writable;
  private readonly err: Writable;

  constructor(private readonly opts: OutputOptions) {
    this.out = opts.stdout ?? process.stdout;
    this.err = opts.stderr ?? process.stderr;
    if (opts.logDir) mkdirSync(opts.logDir, { recursive: true });
  }

  attach(rank: number, stdout: Readable | null, stderr: Readable | null): void {
    const log = this.opts.logDir
      ? createWriteStream(join(this.opts.logDir, `rank-${rank}.log`), { flags: 'a' })
      : undefined;
    if (log) this.logs.push(log);
    const prefix = `[${rank}] `;
    for (const [stream, sink] of [
      [stdout, this.out],
      [stderr, this.err],
    ] as const) {
      if (!stream) continue;
      if (this.opts.tagOutput || log) {
        forEachLine(stream, (line) => {
          sink.write(this.opts.tagOutput ? prefix + line : line);
          log?.write(line);
        });
      } else {
        stream.on('data', (d: Buffer) => sink.write(d));
      }
    }
  }

  /** Flushes and closes the log files. */
  async close(): Promise<void> {
    await Promise.all(this.logs.map((l) => new Promise<void>((r) => l.end(r))));
    this.logs.length = 0;
  }
}
