/**
 * CSV byte range -> Arrow record batches of Int64 or Float64 columns (the data layer's public form).
 * Int64 values are written as two Int32 halves into the BigInt64Array's buffer: creating a BigInt per
 * value costs more than parsing the line.
 */
import { Field, Float64, Int64, makeData, RecordBatch, Schema, Struct } from 'apache-arrow';
import { type CsvInfo, inspectCsv } from './csv-inspect.js';
import { type CsvChunk, type CsvReadOptions, type CsvReadStats, readCsvChunks } from './csv-reader.js';

/** Exact int64 copy of integer-valued doubles (|v| <= 2^53). */
export function float64ToInt64(src: Float64Array): BigInt64Array {
  const out = new BigInt64Array(src.length);
  const halves = new Int32Array(out.buffer);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    const hi = Math.floor(v / 4294967296);
    halves[2 * i] = v - hi * 4294967296;
    halves[2 * i + 1] = hi;
  }
  return out;
}

/** Doubles of an int64 array (exact up to 2^53), without BigInt arithmetic. */
export function int64ToFloat64(src: BigInt64Array | BigUint64Array, signed = true): Float64Array {
  const out = new Float64Array(src.length);
  const halves = new Int32Array(src.buffer, src.byteOffset, src.length * 2);
  for (let i = 0; i < src.length; i++) {
    const hi = signed ? halves[2 * i + 1] : halves[2 * i + 1] >>> 0;
    out[i] = hi * 4294967296 + (halves[2 * i] >>> 0);
  }
  return out;
}

/** The Arrow schema of a CSV file's columns. */
export function csvSchema(info: CsvInfo): Schema {
  const type = info.dtype === 'int64' ? new Int64() : new Float64();
  return new Schema(info.names.map((n) => new Field(n, type, false)));
}

/** One chunk of parsed columns as a record batch of `schema`. */
export function chunkToRecordBatch(schema: Schema, chunk: CsvChunk): RecordBatch {
  const children = schema.fields.map((f, i) => {
    const col = chunk.columns[i].subarray(0, chunk.rows);
    return f.type instanceof Int64
      ? makeData({ type: new Int64(), length: chunk.rows, nullCount: 0, data: float64ToInt64(col) })
      : makeData({ type: new Float64(), length: chunk.rows, nullCount: 0, data: col });
  });
  const data = makeData({ type: new Struct(schema.fields), length: chunk.rows, nullCount: 0, children });
  return new RecordBatch(schema, data);
}

/** Streams a CSV byte range as record batches (see readCsvChunks for the range rule). */
export async function* csvRecordBatches(
  path: string,
  opts: CsvReadOptions = {},
  stats?: CsvReadStats,
): AsyncGenerator<RecordBatch> {
  const info = opts.info ?? (await inspectCsv(path, opts.dtype ?? 'auto'));
  const schema = csvSchema(info);
  for await (const chunk of readCsvChunks(path, { ...opts, info }, stats))
    yield chunkToRecordBatch(schema, chunk);
}
