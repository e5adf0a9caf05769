// The timeline and the flight recorder of an SSH job across real hosts: two network namespaces, each with
// its own address and a real sshd (test/helpers/netns.ts). `--trace` must give one process per host named
// as in the hostfile, a track per rank with its collective slices, and clocks aligned at rendezvous (the
// namespaces share one kernel clock, so the estimated offset must come out near 0 and the slices of one
// collective must overlap across hosts). `--dump-on-failure` must bring every reachable rank's record
// back to DIR on the launcher's host, and the root-cause block must show the last calls.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { FlightDump } from 'tsrun';
import type { ChromeTrace, TraceEvent } from '../src/trace/trace-types.js';
import { createNetnsCluster, netnsUnavailable } from './helpers/netns.js';
import { runTsrun, writeRankPrograms } from './helpers/ssh-tsrun.js';

const fixture = (p: string) => new URL(`./fixtures/${p}`, import.meta.url).pathname;

const why = netnsUnavailable();
if (why) {
  t.plan(0, `skipped: the SSH timeline test needs real hosts: ${why}`);
} else {
  const cluster = await createNetnsCluster(2);
  t.teardown(cluster.teardown);
  const files = writeRankPrograms({});
  t.teardown(files.remove);
  const hostfile = files.path('hostfile');
  // Rank 0 on the first host, ranks 1 and 2 on the second.
  writeFileSync(hostfile, `${cluster.addrs[0]} slots=1\n${cluster.addrs[1]} slots=2\n`);
  const common = ['--hostfile', hostfile, ...cluster.sshOpts.map((o) => `--ssh-opt=${o}`)];
  const hostOf = (rank: number) => cluster.addrs[rank === 0 ? 0 : 1];

  t.test('--hostfile --trace: a process per host, a track per rank, clocks aligned', async (t) => {
    const file = files.path('job.json');
    const r = await runTsrun([...common, '--trace', file, fixture('spmd/traced-job.ts')]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stderr, /timeline of 3 process\(es\) written to/);
    const trace = JSON.parse(readFileSync(file, 'utf8')) as ChromeTrace;
    const procName = new Map<number, string>();
    const thread = new Map<string, { pid: number; tid: number }>();
    for (const e of trace.traceEvents) {
      if (e.ph === 'M' && e.name === 'process_name') procName.set(e.pid!, String(e.args?.name));
      if (e.ph === 'M' && e.name === 'thread_name')
        thread.set(String(e.args?.name), { pid: e.pid!, tid: e.tid! });
    }
    t.same(
      [...procName.values()],
      [hostname(), ...cluster.addrs],
      'one process per host: the launcher’s, then each host named as in the hostfile',
    );
    t.same([...thread.keys()].sort(), ['rank 0', 'rank 1', 'rank 2', 'tsrun (launcher)']);

    const inner = ['allReduce', 'allReduce', 'allReduce', 'allReduce', 'broadcast', 'scan', 'split'];
    const slices = new Map<number, TraceEvent[]>();
    for (const rank of [0, 1, 2]) {
      const track = thread.get(`rank ${rank}`)!;
      t.equal(procName.get(track.pid), hostOf(rank), `rank ${rank} is drawn under its host`);
      const mine = trace.traceEvents.filter(
        (e) => e.ph !== 'M' && e.pid === track.pid && e.tid === track.tid,
      );
      t.ok(
        mine.every((e, i) => e.ts >= 0 && (i === 0 || e.ts >= mine[i - 1].ts)),
        `rank ${rank}: times are non-negative and monotonic along the track`,
      );
      const x = mine.filter((e) => e.ph === 'X' && e.cat === 'collective');
      const want = rank === 1 ? [...inner, 'barrier'] : [...inner, 'allGather', 'barrier', 'barrier'];
      t.same(
        x.map((s) => s.name),
        want,
        `rank ${rank}: one slice per collective, in order`,
      );
      slices.set(rank, x);
    }

    // Clock alignment. Rank 0's host serves the clock; ranks 1 and 2 are on the other host and estimate
    // their offset by round trips. One kernel clock underneath: the true offset is 0, the estimate's
    // error is at most half the best round trip (plus the two processes' time origins, well under a ms).
    const clocks = trace.otherData.clocks as Record<string, { offsetUs: number; rttUs: number }>;
    for (const rank of [1, 2]) {
      const c = clocks[`${cluster.addrs[1]}/rank ${rank}`];
      t.ok(c, `rank ${rank}'s clock estimate is recorded`);
      if (!c) continue;
      t.ok(c.rttUs > 0, `rank ${rank}: the offset was measured over the network (rtt ${c.rttUs} µs)`);
      t.ok(
        Math.abs(c.offsetUs) <= c.rttUs / 2 + 2000,
        `rank ${rank}: offset ${c.offsetUs} µs is ~0 (rtt ${c.rttUs} µs)`,
      );
    }
    // No rank can finish an all-reduce or a barrier before every rank has entered it, so on aligned
    // clocks the slices of one such call overlap across hosts: the latest start is before the earliest
    // end. The slack covers the offset's error bound only.
    const slack = 2000 + Math.max(0, ...Object.values(clocks).map((c) => c.rttUs / 2));
    const ends = (s: TraceEvent) => s.ts + (s.dur ?? 0);
    for (let i = 0; i < 4; i++) {
      const call = [0, 1, 2].map((r) => slices.get(r)![i]);
      const latestStart = Math.max(...call.map((s) => s.ts));
      const earliestEnd = Math.min(...call.map(ends));
      t.ok(
        latestStart <= earliestEnd + slack,
        `all-reduce ${i} overlaps on both hosts: latest start ${latestStart.toFixed(0)} µs, ` +
          `earliest end ${earliestEnd.toFixed(0)} µs`,
      );
    }
    // The broadcast from rank 1 (second host): no rank ends it before the root starts it.
    const bcast = [0, 1, 2].map((r) => slices.get(r)![4]);
    t.ok(
      bcast[1].ts <= Math.min(...bcast.map(ends)) + slack,
      'the broadcast starts at its root before any rank finishes it',
    );
    // The world's final barrier (pg.destroy) is the last slice of every rank.
    const last = [0, 1, 2].map((r) => slices.get(r)!.at(-1)!);
    t.ok(
      Math.max(...last.map((s) => s.ts)) <= Math.min(...last.map(ends)) + slack,
      'the final barrier overlaps across hosts',
    );
  });

  t.test(
    '--hostfile --dump-on-failure: records come back to DIR, the root cause shows last calls',
    async (t) => {
      const dir = files.path('flight');
      const r = await runTsrun([...common, '--dump-on-failure', dir, fixture('spmd/flight-stops.ts')]);
      t.not(r.code, 0, 'the job failed');
      t.match(r.stderr, /root cause:/);
      t.match(r.stderr, /last collective calls of each rank that could still report/);
      for (const rank of [0, 1, 2]) {
        t.match(r.stderr, new RegExp(`rank ${rank} \\(${hostOf(rank).replace(/\./g, '\\.')}, pid \\d+\\)`));
      }
      t.match(r.stderr, /#3 allGather\(Int16.*WAITING for rank/, 'a timed-out rank shows where it waits');
      t.match(
        r.stderr,
        /#2 barrier\(\) barrier-dissemination 0 B [\d.]+ ms done/,
        'earlier calls are listed',
      );
      // The namespaces share the launcher's filesystem, so a file in DIR alone does not show who wrote
      // it; the host named as in the hostfile does: only the launcher knows that name.
      const names = readdirSync(dir).sort();
      t.same(names, ['rank-0.json', 'rank-1.json', 'rank-2.json'], 'each rank’s record, and nothing else');
      for (const rank of [0, 1, 2]) {
        const d = JSON.parse(readFileSync(join(dir, `rank-${rank}.json`), 'utf8')) as FlightDump;
        t.equal(d.rank, rank);
        t.equal(d.host, hostOf(rank), `rank ${rank}'s record names its host as in the hostfile`);
        t.same(
          d.calls.slice(0, 2).map((c) => [c.op, c.state]),
          [
            ['allReduce', 'done'],
            ['barrier', 'done'],
          ],
          `rank ${rank}: its first two calls`,
        );
        t.match(d.error, /CollectiveTimeoutError/);
      }
    },
  );
}
