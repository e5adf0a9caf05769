/**
 * Arrow IPC files (the "file" format, with a footer) as a second input format. The footer lists every
 * record batch, so rank r of n reads only its own contiguous share of batches, like a byte range of
 * a CSV file; numeric columns come out as Float64Array (int64 exact up to 2^53).
 */
import { open } from 'node:fs/promises';
import { type Data, RecordBatchReader, Type } from 'apache-arrow';
import { TsrunError } from '../errors.js';
import { shareOfCount } from './byte-range.js';
import { int64ToFloat64 } from './csv-arrow.js';
import type { CsvChunk } from './csv-reader.js';

/** Input that is not a readable Arrow IPC file, or a column that is not numeric. */
export class ArrowInputError extends TsrunError {
  override name = 'ArrowInputError';
}

/** True when the file starts with the Arrow IPC file magic "ARROW1". */
export async function isArrowFile(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(6);
    await fh.read(buf, 0, 6, 0);
    return buf.toString('latin1') === 'ARROW1';
  } finally {
    await fh.close();
  }
}

function columnToFloat64(path: string, name: string, data: Data): Float64Array {
  if (data.nullCount > 0)
    throw new ArrowInputError(`${path}: column ${name} holds nulls; numeric columns only`);
  const v = data.values as unknown;
  if (v instanceof Float64Array) return v.subarray(0, data.length);
  if (v instanceof BigInt64Array || v instanceof BigUint64Array) {
    return int64ToFloat64(v.subarray(0, data.length), v instanceof BigInt64Array);
  }
  if (data.typeId === Type.Int || data.typeId === Type.Float) {
    return Float64Array.from(v as ArrayLike<number>).subarray(0, data.length);
  }
  throw new ArrowInputError(`${path}: column ${name} has type ${data.type}; numeric columns only`);
}

/**
 * apache-arrow reports a truncated or corrupt file with untyped errors (a TypeError on a null footer,
 * "Expected to read N metadata bytes"); users get one typed line naming the file instead.
 */
function corrupt(path: string, err: unknown): ArrowInputError {
  if (err instanceof ArrowInputError) return err;
  const why = String((err as Error)?.message ?? err).split('\n')[0];
  return new ArrowInputError(`${path}: not a readable Arrow IPC file, truncated or corrupt (${why})`);
}

/** Number of record batches and column names of an Arrow IPC file. */
export async function inspectArrow(path: string): Promise<{ batches: number; names: string[] }> {
  const fh = await open(path, 'r');
  try {
    const reader = await RecordBatchReader.from(fh);
    await reader.open();
    if (!reader.isFile()) throw new ArrowInputError(`${path}: not an Arrow IPC file (footer missing)`);
    return { batches: reader.numRecordBatches, names: reader.schema.fields.map((f) => f.name) };
  } catch (err) {
    throw corrupt(path, err);
  } finally {
    await fh.close();
  }
}

/** Yields record batches [lo, hi) (default: rank's share) as Float64 column chunks. */
export async function* readArrowChunks(
  path: string,
  share: { rank: number; size: number } | { lo: number; hi: number } = { rank: 0, size: 1 },
): AsyncGenerator<CsvChunk> {
  const fh = await open(path, 'r');
  try {
    const reader = await RecordBatchReader.from(fh);
    await reader.open();
    if (!reader.isFile()) throw new ArrowInputError(`${path}: not an Arrow IPC file (footer missing)`);
    const n = reader.numRecordBatches;
    const { lo, hi } = 'lo' in share ? share : shareOfCount(n, share.rank, share.size);
    const names = reader.schema.fields.map((f) => f.name);
    for (let i = lo; i < Math.min(hi, n); i++) {
      const batch = await reader.readRecordBatch(i);
      if (!batch) continue;
      const columns = batch.data.children.map((d, c) => columnToFloat64(path, names[c], d));
      yield { columns, rows: batch.numRows };
    }
  } catch (err) {
    throw corrupt(path, err);
  } finally {
    await fh.close();
  }
}
