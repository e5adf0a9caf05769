/** The flight records' text in the root-cause block, and the launcher's reading of a dump directory. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { formatFlightDumps, openFlightDir, readFlightDumps } from '../launcher/flight-dumps.js';
import { formatRootCause } from '../launcher/root-cause.js';
import { describeRecord, type FlightDump, type FlightRecord } from '../src/flight-record.js';

const rec = (seq: number, over: Partial<FlightRecord> = {}): FlightRecord => ({
  seq,
  group: 0,
  groupSize: 3,
  op: 'allReduce',
  dtype: 'Float32',
  length: 8,
  redop: 'sum',
  algorithm: 'allreduce-ring',
  bytes: 64,
  startedAt: 1_700_000_000_000,
  durationMs: 1.25,
  state: 'done',
  waitingFor: [],
  ...over,
});

t.test('one line per call: args, algorithm, bytes, time, state', async (t) => {
  t.equal(
    describeRecord(rec(4)),
    "#4 allReduce(Float32, length 8, op 'sum') allreduce-ring 64 B 1.3 ms done",
  );
  t.equal(
    describeRecord(
      rec(5, { op: 'broadcast', redop: undefined, root: 1, state: 'waiting', waitingFor: [1, 2] }),
    ),
    '#5 broadcast(Float32, length 8, root 1) allreduce-ring 64 B 1.3 ms WAITING for ranks 1, 2',
  );
  t.match(
    describeRecord(rec(6, { group: 255, state: 'waiting' })),
    /\[group ff\].*RUNNING \(not waiting on a peer\)/,
  );
  t.match(describeRecord(rec(7, { state: 'failed', waitingFor: [0] })), /FAILED waiting for 0$/);
});

t.test(
  'the root-cause block lists the last 5 calls of each reporting rank and names the silent ones',
  async (t) => {
    const dumps: FlightDump[] = [0, 2].map((rank) => ({
      rank,
      host: 'h',
      pid: 100 + rank,
      error: 'CollectiveTimeoutError: x timed out\nsecond line',
      writtenAt: Date.now(),
      calls: Array.from({ length: 7 }, (_, i) => rec(i + 1)),
    }));
    const text = formatRootCause({ host: 'h', rank: 0, code: 1, signal: null, stderrTail: [] }, 1, dumps, 4);
    t.match(text, /rank 0 \(h, pid 100\): CollectiveTimeoutError: x timed out\n/);
    t.notMatch(text, /second line/, 'only the first line of the error');
    t.notMatch(text, /#2 allReduce/, 'older calls are left out');
    t.match(text, /#3 allReduce[\s\S]*#7 allReduce[\s\S]*rank 2 \(h/);
    t.match(text, /no record from ranks 1, 3/);
    t.same(formatFlightDumps([]), [], 'nothing without dumps');
  },
);

t.test('dump directories: damaged files skipped, stale ones ignored, private ones removed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-flight-units-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const dump = (rank: number, writtenAt: number): string =>
    JSON.stringify({ rank, host: 'h', pid: 1, error: 'e', writtenAt, calls: [] });
  writeFileSync(join(dir, 'rank-3.json'), dump(3, Date.now() - 3_600_000));
  const fd = openFlightDir(dir);
  writeFileSync(join(dir, 'rank-1.json'), dump(1, Date.now()));
  writeFileSync(join(dir, 'rank-0.json'), dump(0, Date.now()));
  writeFileSync(join(dir, 'rank-2.json'), '{"rank": 2, "trunc');
  t.same(
    readFlightDumps(dir).map((d) => d.rank),
    [0, 1, 3],
    'sorted by rank, the damaged one skipped',
  );
  t.same(
    fd.collect().map((d) => d.rank),
    [0, 1],
    'a dump older than the attempt is not this job’s',
  );
  const own = openFlightDir(undefined);
  writeFileSync(join(own.dir, 'rank-0.json'), dump(0, Date.now()));
  t.equal(own.collect().length, 1);
  t.same(readFlightDumps(own.dir), [], 'the private directory is removed');
});
