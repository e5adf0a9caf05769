/**
 * The flight recorder on real ranks: errors carry each rank's last calls in `.recent`, and tsrun's
 * root-cause block and --dump-on-failure show them.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { FLIGHT_CAPACITY, type FlightDump, type FlightRecord } from 'tsrun';
import { runRanksSettled } from 'tsrun/testing';
import type { FlightSeen } from './fixtures/spmd/flight.js';
import { runTsrun } from './helpers/ssh-tsrun.js';

const MODULE = new URL('./fixtures/spmd/flight.ts', import.meta.url);
const WARM_UP = ['allReduce', 'broadcast', 'scan'];

function checkWarmUp(t: Test, recent: readonly FlightRecord[], who: string): void {
  const first = recent.slice(0, 3);
  t.same(
    first.map((r) => [r.seq, r.op, r.state]),
    WARM_UP.map((op, i) => [i + 1, op, 'done']),
    `${who}: the three earlier calls, in order, done`,
  );
  t.same(
    first.map((r) => [r.dtype, r.length]),
    [
      ['Float32', 8],
      ['Int32', 3],
      ['Float64', 5],
    ],
    `${who}: their dtypes and lengths`,
  );
  t.equal(first[0].algorithm, 'allreduce-recursive-doubling', `${who}: the algorithm is recorded`);
  t.ok(
    first.every((r) => r.durationMs >= 0 && r.startedAt > 1e12),
    `${who}: times recorded`,
  );
}

t.test('a rank that stops calling: the others time out, every rank shows its last calls', async (t) => {
  const out = await runRanksSettled<FlightSeen>({ timeoutMs: 180_000 }, 3, MODULE, 'stopsCalling', 1500);
  for (const o of out.slice(0, 2)) {
    t.ok(o.ok, `rank ${o.rank} returned`);
    if (!o.ok) continue;
    t.equal(o.value.error, 'CollectiveTimeoutError');
    const recent = o.value.recent;
    t.equal(recent.length, 4, `rank ${o.rank}: four calls recorded`);
    checkWarmUp(t, recent, `rank ${o.rank}`);
    const last = recent[3];
    t.same([last.seq, last.op, last.redop, last.length], [4, 'allReduce', 'max', 100]);
    t.equal(last.state, 'waiting', `rank ${o.rank}: the fourth call was still waiting when it failed`);
    t.ok(last.waitingFor.length > 0, `rank ${o.rank} waits for ranks ${last.waitingFor}`);
  }
  const silent = out[2];
  t.ok(silent.ok, 'the rank that stopped calling returned');
  if (silent.ok) {
    t.equal(silent.value.recent.length, 3, 'it made three calls');
    checkWarmUp(t, silent.value.recent, 'rank 2');
  }
});

t.test('a mismatched call: every rank shows its own last call and the earlier ones', async (t) => {
  const out = await runRanksSettled<FlightSeen>({ timeoutMs: 180_000 }, 3, MODULE, 'mismatched');
  // Rank 1's fourth call talks only to rank 0 in some orders; ranks 0 and 2 always see the mismatch.
  for (const o of [out[0], out[2]]) {
    t.ok(o.ok, `rank ${o.rank} returned`);
    if (!o.ok) continue;
    t.equal(o.value.error, 'CollectiveMismatchError');
    const recent = o.value.recent;
    checkWarmUp(t, recent, `rank ${o.rank}`);
    t.equal(recent.length, 4);
    t.equal(recent[3].op, o.rank === 2 ? 'gather' : 'allReduce', `rank ${o.rank}: its own fourth call`);
    t.equal(recent[3].state, 'waiting', 'running when the mismatch broke the group');
  }
});

t.test('the recorder keeps the last 32 calls', async (t) => {
  t.equal(FLIGHT_CAPACITY, 32);
});

const STOPS = new URL('./fixtures/spmd/flight-stops.ts', import.meta.url).pathname;

t.test('tsrun: root-cause block with each reachable rank’s last calls, and --dump-on-failure', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-flight-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = await runTsrun(['--nproc-per-node', '3', '--dump-on-failure', dir, STOPS]);
  t.not(r.code, 0, 'the job failed');
  t.match(r.stderr, /root cause:/);
  t.match(r.stderr, /last collective calls of each rank that could still report/);
  for (const rank of [0, 1, 2]) t.match(r.stderr, new RegExp(`rank ${rank} \\(`), `block names rank ${rank}`);
  t.match(r.stderr, /#3 allGather\(Int16.*WAITING for rank/, 'a timed-out rank shows where it waits');
  t.match(r.stderr, /#2 barrier\(\) barrier-dissemination 0 B [\d.]+ ms done/, 'earlier calls are listed');
  const files = readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort();
  t.same(files, ['rank-0.json', 'rank-1.json', 'rank-2.json'], 'each rank wrote its record');
  const d2 = JSON.parse(readFileSync(join(dir, 'rank-2.json'), 'utf8')) as FlightDump;
  t.same(
    d2.calls.map((c) => c.op),
    ['allReduce', 'barrier'],
    'the rank that stopped calling made two calls',
  );
  t.match(d2.error, /CollectiveTimeoutError/);
});
