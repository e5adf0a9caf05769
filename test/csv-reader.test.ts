import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { shareOfRange } from '../src/data/byte-range.js';
import { CsvParseError, EmptyCsvError } from '../src/data/csv-errors.js';
import { inspectCsv } from '../src/data/csv-inspect.js';
import { loadCsvRange, readCsvChunks } from '../src/data/csv-reader.js';

const dir = mkdtempSync(join(tmpdir(), 'csv-test-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

// Deterministic PRNG so a failure can be replayed.
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

async function readAll(path: string, cuts: number[], opts = {}): Promise<number[][]> {
  const rows: number[][] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    for await (const ch of readCsvChunks(path, {
      range: { start: cuts[i], end: cuts[i + 1] },
      chunkRows: 7,
      ...opts,
    })) {
      for (let r = 0; r < ch.rows; r++) rows.push(ch.columns.map((c) => c[r]));
    }
  }
  return rows;
}

t.test('every line read exactly once for many random range splits', async (t) => {
  const rnd = lcg(7);
  const expected: number[][] = [];
  let text = 'node1,node2\n';
  for (let i = 0; i < 500; i++) {
    const a = Math.floor(rnd() * 1e9);
    const b = Math.floor(rnd() * 1e6);
    expected.push([a, b]);
    text += `${a},${b}${i % 3 === 0 ? '\r\n' : '\n'}`;
  }
  const path = file('edges.csv', text);
  const size = text.length;
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + Math.floor(rnd() * 12);
    const cuts = [0, size];
    for (let i = 0; i < n; i++) cuts.push(Math.floor(rnd() * size));
    cuts.sort((x, y) => x - y);
    const got = await readAll(path, cuts, { bufferBytes: 64 + Math.floor(rnd() * 200) });
    if (
      got.length !== expected.length ||
      got.some((r, i) => r[0] !== expected[i][0] || r[1] !== expected[i][1])
    ) {
      t.fail(`split ${cuts.join(',')}: ${got.length} rows`);
      return;
    }
  }
  for (let n = 1; n <= 7; n++) {
    const cuts = [0];
    for (let r = 0; r < n; r++) cuts.push(shareOfRange({ start: 0, end: size }, r, n).end);
    t.same(await readAll(path, cuts), expected, `${n} equal shares`);
  }
});

t.test('header detection, CRLF, no trailing newline, floats', async (t) => {
  const p1 = file('pts.csv', 'x,y\r\n1.5,-2e3\r\n.25,3.000001\r\n-0.5,1E-2');
  const info = await inspectCsv(p1);
  t.same(info.names, ['x', 'y']);
  t.equal(info.dtype, 'float64');
  const all = await loadCsvRange(p1);
  t.same([...all.columns[0]], [1.5, 0.25, -0.5]);
  t.same([...all.columns[1]], [-2000, 3.000001, 0.01]);
  const p2 = file('noheader.csv', '1,2\n3,4\n\n5,6\n');
  const info2 = await inspectCsv(p2);
  t.equal(info2.hasHeader, false);
  t.equal(info2.dtype, 'int64');
  t.same([...(await loadCsvRange(p2)).columns[1]], [2, 4, 6]);
});

t.test('decimal parsing matches Number() for many values', async (t) => {
  const rnd = lcg(11);
  const vals: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const v = (rnd() - 0.5) * 10 ** Math.floor(rnd() * 40 - 20);
    vals.push(i % 2 ? v.toPrecision(1 + Math.floor(rnd() * 17)) : v.toFixed(Math.floor(rnd() * 9)));
  }
  const p = file('many.csv', `v\n${vals.join('\n')}\n`);
  const got = await loadCsvRange(p, { dtype: 'float64' });
  const bad = vals.filter((s, i) => got.columns[0][i] !== Number(s));
  t.same(bad, [], 'every value equals Number(text)');
});

t.test('bad lines: error names file, line and content; --skip-bad-lines counts them', async (t) => {
  const p = file('bad.csv', 'a,b\n1,2\n3,x4\n5,6\n7\n8,9,10\n1.5,2\n');
  const err = await loadCsvRange(p).catch((e: unknown) => e);
  t.type(err, CsvParseError);
  t.match((err as CsvParseError).message, /bad\.csv:3: .*"3,x4"/);
  t.equal((err as CsvParseError).line, 3);
  const stats = { rows: 0, badLines: 0, bytes: 0 };
  const ok = await loadCsvRange(p, { skipBadLines: true }, stats);
  t.same([...ok.columns[0]], [1, 5]);
  t.equal(stats.badLines, 4, 'x4, too few, too many, non-integer in an int64 file');
  const late = await loadCsvRange(p, { range: { start: 12, end: 100 } }).catch((e: unknown) => e);
  t.equal((late as CsvParseError).line, 5, 'line number is global even when read from a range');
});

t.test('empty file and header-only file', async (t) => {
  await t.rejects(inspectCsv(file('empty.csv', '')), EmptyCsvError);
  await t.rejects(inspectCsv(file('hdr.csv', 'node1,node2\n')), EmptyCsvError);
  await t.rejects(inspectCsv(join(dir, 'missing.csv')), /no such file/);
});

t.test('record batches (Int64 columns) and Arrow IPC files read by share of batches', async (t) => {
  const { csvRecordBatches, readArrowChunks, isArrowFile } = await import('../src/data/index.js');
  const { RecordBatchFileWriter, Table } = await import('apache-arrow');
  const lines = Array.from({ length: 100 }, (_, i) => `${i * 1e9 + 7},${-i}`);
  const p = file('ids.csv', `node1,node2\n${lines.join('\n')}\n`);
  const batches = [];
  for await (const b of csvRecordBatches(p, { chunkRows: 30 })) batches.push(b);
  t.same(
    batches.map((b) => b.numRows),
    [30, 30, 30, 10],
  );
  t.equal(batches[3].getChild('node1')?.get(9), BigInt(99e9 + 7), 'int64 exact');
  t.equal(batches[0].getChild('node2')?.get(5), -5n);
  const ipc = join(dir, 'ids.arrow');
  writeFileSync(ipc, RecordBatchFileWriter.writeAll(new Table(batches)).toUint8Array(true));
  t.ok(await isArrowFile(ipc));
  t.notOk(await isArrowFile(p));
  const seen: number[] = [];
  for (let r = 0; r < 3; r++) {
    for await (const ch of readArrowChunks(ipc, { rank: r, size: 3 })) seen.push(...ch.columns[0]);
  }
  t.same(
    seen,
    lines.map((l) => Number(l.split(',')[0])),
  );
});
