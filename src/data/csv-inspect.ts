/**
 * What a CSV file looks like, from its first line only: header or not, number of columns, and the
 * column type a caller asked for (or int64 when the first data line holds only integers).
 */
import { open } from 'node:fs/promises';
import { CsvParseError, EmptyCsvError } from './csv-errors.js';

export type CsvDType = 'int64' | 'float64';

export interface CsvInfo {
  path: string;
  size: number;
  /** Column names: the header's, or c0, c1, ... when the first line is data. */
  names: string[];
  hasHeader: boolean;
  /** Byte offset of the first data line (after the header line when there is one). */
  dataStart: number;
  dtype: CsvDType;
}

const NUMBER = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;
const INTEGER = /^\s*[+-]?\d+\s*$/;

async function readLine(path: string, from: number, size: number): Promise<{ text: string; next: number }> {
  const fh = await open(path, 'r');
  try {
    let len = 65536;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(len, size - from));
      const { bytesRead } = await fh.read(buf, 0, buf.length, from);
      const nl = buf.subarray(0, bytesRead).indexOf(10);
      if (nl >= 0 || from + bytesRead >= size) {
        const end = nl >= 0 ? nl : bytesRead;
        return { text: buf.subarray(0, end).toString('utf8').replace(/\r$/, ''), next: from + end + 1 };
      }
      len *= 4;
    }
  } finally {
    await fh.close();
  }
}

/** Inspects `path`; `dtype` 'auto' picks int64 when the first data line is all integers. */
export async function inspectCsv(path: string, dtype: CsvDType | 'auto' = 'auto'): Promise<CsvInfo> {
  const fh = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new Error(`cannot open input ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  });
  const { size } = await fh.stat();
  await fh.close();
  if (size === 0) throw new EmptyCsvError(path);
  const first = await readLine(path, 0, size);
  const fields = first.text.split(',');
  const hasHeader = !fields.every((f) => NUMBER.test(f));
  const names = hasHeader ? fields.map((f) => f.trim()) : fields.map((_, i) => `c${i}`);
  const dataStart = hasHeader ? Math.min(first.next, size) : 0;
  if (dataStart >= size) throw new EmptyCsvError(path);
  let resolved: CsvDType = dtype === 'auto' ? 'int64' : dtype;
  if (dtype === 'auto') {
    const data = hasHeader ? await readLine(path, dataStart, size) : first;
    const dataFields = data.text.split(',');
    if (!dataFields.every((f) => NUMBER.test(f))) {
      throw new CsvParseError(path, hasHeader ? 2 : 1, data.text, 'a field is not a number');
    }
    if (!dataFields.every((f) => INTEGER.test(f))) resolved = 'float64';
  }
  return { path, size, names, hasHeader, dataStart, dtype: resolved };
}

/** 1-based number of the line starting at byte `offset` (only used to word an error). */
export async function lineNumberAt(path: string, offset: number): Promise<number> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 22);
    let line = 1;
    for (let pos = 0; pos < offset; ) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, offset - pos), pos);
      if (bytesRead === 0) break;
      for (let i = buf.indexOf(10, 0); i >= 0 && i < bytesRead; i = buf.indexOf(10, i + 1)) line++;
      pos += bytesRead;
    }
    return line;
  } finally {
    await fh.close();
  }
}
