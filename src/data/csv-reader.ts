/**
 * Streams the rows of one byte range of a CSV file as Float64Array columns. A line belongs to the
 * range holding its first byte: the reader starts after the first line end at or after `start - 1`
 * and stops after the line holding byte `end - 1`, so ranges that tile the file read every line once.
 */
import { open } from 'node:fs/promises';
import type { ByteRange } from './byte-range.js';
import { CsvParseError } from './csv-errors.js';
import { type CsvDType, type CsvInfo, inspectCsv, lineNumberAt } from './csv-inspect.js';
import {
  badLineReason,
  newParseState,
  PARSE_BAD_LINE,
  PARSE_DONE,
  PARSE_FULL,
  parseCsvLines,
} from './csv-parse.js';

export interface CsvReadOptions {
  /** Byte range to read (default: the whole file). */
  range?: ByteRange;
  /** Column type (default 'auto': int64 when the first data line is all integers). */
  dtype?: CsvDType | 'auto';
  /** Count and skip bad lines instead of throwing CsvParseError. */
  skipBadLines?: boolean;
  /** Rows per yielded chunk (default 262144). */
  chunkRows?: number;
  /** Read buffer size in bytes (default 4 MiB). */
  bufferBytes?: number;
  /** Result of inspectCsv, when the caller already has it (saves one open + read). */
  info?: CsvInfo;
}

export interface CsvChunk {
  /** One array per column, each of length `rows`. */
  columns: Float64Array[];
  rows: number;
}

/** Counters the reader fills in while it runs. */
export interface CsvReadStats {
  rows: number;
  badLines: number;
  bytes: number;
}

function newColumns(n: number, rows: number): Float64Array[] {
  return Array.from({ length: n }, () => new Float64Array(rows));
}

/** Yields the range's rows in file order, in chunks of at most `chunkRows`. */
export async function* readCsvChunks(
  path: string,
  opts: CsvReadOptions = {},
  stats: CsvReadStats = { rows: 0, badLines: 0, bytes: 0 },
): AsyncGenerator<CsvChunk> {
  const info = opts.info ?? (await inspectCsv(path, opts.dtype ?? 'auto'));
  const ncols = info.names.length;
  const intOnly = info.dtype === 'int64';
  const chunkRows = opts.chunkRows ?? 262144;
  if (opts.range && !(Number.isInteger(opts.range.start) && Number.isInteger(opts.range.end))) {
    // A fractional offset would be passed to fs reads as is and silently read nothing.
    throw new RangeError(
      `${path}: byte range [${opts.range.start}, ${opts.range.end}) must have integer bounds`,
    );
  }
  const start = Math.max(0, opts.range?.start ?? 0);
  const end = Math.min(info.size, opts.range?.end ?? info.size);
  if (start >= end) return;
  const fh = await open(path, 'r');
  try {
    let buf = Buffer.allocUnsafe(opts.bufferBytes ?? 1 << 22);
    let pos = start;
    if (pos > 0) {
      // Align to the first line that starts inside the range.
      const one = Buffer.alloc(1);
      await fh.read(one, 0, 1, pos - 1);
      if (one[0] !== 10) {
        for (;;) {
          const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
          if (bytesRead === 0) return;
          const nl = buf.subarray(0, bytesRead).indexOf(10);
          if (nl >= 0) {
            pos += nl + 1;
            break;
          }
          pos += bytesRead;
        }
      }
    }
    if (pos < info.dataStart) pos = info.dataStart;
    if (pos >= end) return;

    let bufAbs = pos;
    let filled = 0;
    let stopAbs = -1;
    let eof = false;
    let cols = newColumns(ncols, chunkRows);
    const st = newParseState(chunkRows);
    for (;;) {
      if (!eof && filled < buf.length) {
        const { bytesRead } = await fh.read(buf, filled, buf.length - filled, bufAbs + filled);
        if (bytesRead === 0) eof = true;
        filled += bytesRead;
      }
      let to: number;
      if (stopAbs >= 0) to = Math.min(stopAbs - bufAbs, filled);
      else {
        const lastIdx = end - 1 - bufAbs;
        const nl = lastIdx < filled ? buf.subarray(0, filled).indexOf(10, lastIdx) : -1;
        if (nl >= 0) {
          stopAbs = bufAbs + nl + 1;
          to = nl + 1;
        } else if (eof) {
          stopAbs = bufAbs + filled;
          to = filled;
        } else to = buf.subarray(0, filled).lastIndexOf(10) + 1;
      }
      let from = 0;
      for (;;) {
        const status = parseCsvLines(buf, from, to, ncols, intOnly, cols, st);
        if (status === PARSE_DONE) break;
        if (status === PARSE_FULL) {
          stats.rows += st.row;
          yield { columns: cols, rows: st.row };
          cols = newColumns(ncols, chunkRows);
          st.row = 0;
          from = st.pos;
          continue;
        }
        if (status === PARSE_BAD_LINE) {
          if (!opts.skipBadLines) {
            const content = buf.subarray(st.badStart, st.badEnd).toString('utf8');
            const line = await lineNumberAt(path, bufAbs + st.badStart);
            throw new CsvParseError(path, line, content, badLineReason(st.badReason, ncols));
          }
          stats.badLines++;
          from = Math.min(to, st.badEnd + 1);
          if (from < to && buf[from - 1] === 13) from++;
        }
      }
      stats.bytes += to;
      const finished = (stopAbs >= 0 && bufAbs + to >= stopAbs) || (eof && to >= filled);
      if (finished) break;
      if (to === 0 && filled === buf.length) {
        // One line longer than the buffer: grow it rather than fail.
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
        continue;
      }
      buf.copy(buf, 0, to, filled);
      bufAbs += to;
      filled -= to;
    }
    if (st.row > 0) {
      stats.rows += st.row;
      yield { columns: cols.map((c) => c.subarray(0, st.row)), rows: st.row };
    }
  } finally {
    await fh.close();
  }
}

/** Reads a whole range into one array per column. */
export async function loadCsvRange(
  path: string,
  opts: CsvReadOptions = {},
  stats: CsvReadStats = { rows: 0, badLines: 0, bytes: 0 },
): Promise<CsvChunk> {
  const parts: CsvChunk[] = [];
  let total = 0;
  let ncols = (opts.info ?? { names: [] }).names.length;
  for await (const chunk of readCsvChunks(path, { chunkRows: 1 << 20, ...opts }, stats)) {
    parts.push(chunk);
    total += chunk.rows;
    ncols = chunk.columns.length;
  }
  if (parts.length === 1) return parts[0];
  // No rows (an empty range, or a range with no line start): still one empty array per column.
  if (parts.length === 0 && ncols === 0) ncols = (await inspectCsv(path, opts.dtype ?? 'auto')).names.length;
  const columns = newColumns(ncols, total);
  let at = 0;
  for (const p of parts) {
    for (let c = 0; c < ncols; c++) columns[c].set(p.columns[c].subarray(0, p.rows), at);
    at += p.rows;
  }
  return { columns, rows: total };
}
