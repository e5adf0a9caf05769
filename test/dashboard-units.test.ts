// Pure pieces of the dashboard: /proc parsers, the log ring, the history ring, the access token.
import t from 'tap';
import { cookieValue, dashboardToken, isLoopback, sameToken } from '../src/dashboard/access-token.js';
import { History } from '../src/dashboard/history.js';
import { HostsMonitor } from '../src/dashboard/hosts-monitor.js';
import { LogRing, RELAY_LINES } from '../src/telemetry/log-ring.js';
import {
  hostCpuPercent,
  parseHostCpu,
  parseMeminfo,
  parseProcStat,
  readProc,
} from '../src/telemetry/proc-stats.js';

t.test('/proc parsers', async (t) => {
  const a = parseHostCpu('cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3\n')!;
  const b = parseHostCpu('cpu  200 0 200 800 100 0 0 0 0 0\n')!;
  t.same(a, { busy: 200, total: 1000 });
  t.equal(hostCpuPercent(a, b), (100 * 200) / 300);
  t.equal(parseHostCpu('intr 1 2 3\n'), undefined);
  t.same(parseMeminfo('MemTotal:  1000 kB\nMemFree: 10 kB\nMemAvailable:  250 kB\n'), {
    memTotalBytes: 1024000,
    memUsedBytes: 768000,
  });
  t.equal(parseMeminfo('MemTotal: 5 kB\n'), undefined);
  // A command name with spaces and a ')' must not shift the fields.
  const stat =
    '42 (my (odd) name) S 1 42 42 0 -1 4194560 1 0 0 0 250 50 0 0 20 0 1 0 100 1000000 300 18446744073709551615';
  t.same(parseProcStat(stat), { state: 'S', cpuSeconds: 3, rssBytes: 300 * 4096 });
  t.equal(parseProcStat('garbage'), undefined);
  const self = readProc(process.pid);
  t.ok(self && self.rssBytes > 1e6 && self.state.length === 1, 'reads this process');
  t.equal(readProc(2 ** 30), undefined, 'no such pid');
});

t.test('log ring keeps the last lines, joins split chunks', async (t) => {
  const r = new LogRing(3);
  r.push('a\nb');
  r.push('c\nd\ne\npart');
  t.same(r.tail(10), ['bc', 'd', 'e', 'part'], 'b and c joined across chunks; 3 lines plus the pending one');
  t.same(r.tail(2), ['e', 'part']);
  r.push('ial\n');
  t.same(r.tail(3), ['d', 'e', 'partial']);
  t.same(r.tail(1), ['partial']);
});

t.test('history keeps the newest samples in order', async (t) => {
  const h = new History(3);
  for (let i = 0; i < 5; i++)
    h.push({ t: i, cpuPercent: 0, memUsedBytes: 0, tasksPerSec: 0, collectiveBytesPerSec: 0 });
  t.same(
    h.all().map((s) => s.t),
    [2, 3, 4],
  );
  t.equal(h.length, 3);
});

t.test('access token', async (t) => {
  const tok = dashboardToken('s'.repeat(64));
  t.match(tok, /^[0-9a-f]{32}$/);
  t.not(tok, dashboardToken('t'.repeat(64)), 'depends on the secret');
  t.notOk(tok.includes('ssss'), 'does not carry the secret');
  t.ok(sameToken(tok, tok));
  t.notOk(sameToken(undefined, tok));
  t.notOk(sameToken(`${tok}0`, tok));
  t.equal(cookieValue('a=1; tsrun_dashboard=xyz; b=2', 'tsrun_dashboard'), 'xyz');
  t.equal(cookieValue(undefined, 'x'), undefined);
  t.ok(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('localhost'));
  t.notOk(isLoopback('0.0.0.0') || isLoopback('10.0.0.2'));
});

t.test('log ring: new lines for relaying, a flood keeps the newest', async (t) => {
  const r = new LogRing(10);
  r.push('a\nb\npart');
  t.same(r.drainNew(5), { lines: ['a', 'b'], skipped: 0 }, 'complete lines only');
  t.same(r.drainNew(5), { lines: [], skipped: 0 }, 'each line once');
  r.push('ial\n');
  for (let i = 0; i < 6; i++) r.push(`l${i}\n`);
  t.same(r.drainNew(3), { lines: ['l3', 'l4', 'l5'], skipped: 4 });
  r.push('tail without newline');
  r.flushPartial();
  t.same(r.drainNew(5).lines, ['tail without newline'], 'a last partial line is relayed at exit');
});

t.test('log ring: relayNew leads a flood with a notice and ends a partial line when final', async (t) => {
  const r = new LogRing(1000);
  for (let i = 0; i < RELAY_LINES + 3; i++) r.push(`l${i}\n`);
  const lines = r.relayNew(false, ' of rank 4');
  t.equal(lines.length, RELAY_LINES + 1);
  t.equal(lines[0], '[tsrun dashboard: 3 lines of rank 4 not relayed]');
  t.equal(lines[1], 'l3', 'the newest lines are kept');
  r.push('no newline');
  t.same(r.relayNew(false), [], 'a partial line waits while the process lives');
  t.same(r.relayNew(true), ['no newline']);
});

t.test('hosts monitor: merges agents, an exit is not undone by an older sample', async (t) => {
  const m = new HostsMonitor(['hostA', 'hostB']);
  m.started(0, 0, [100]);
  m.started(1, 1, [200, 201]);
  const node = (pids: number[]) => ({
    host: 'ignored',
    cpuPercent: 50,
    memUsedBytes: 1,
    memTotalBytes: 2,
    processes: pids.map((pid, i) => ({
      pid,
      role: 'rank' as const,
      rank: i + 1,
      rssBytes: 5,
      cpuPercent: 1,
      state: 'running',
    })),
  });
  const report = (ops: number) => ({
    tsrunDashboard: 1 as const,
    collectives: { ops, bytes: 10 * ops, secondsInCollectives: 0 },
  });
  // Host B's agent samples both its ranks as running, with the given new output lines.
  const sampleB = (logs: Record<number, string[]>) =>
    m.dash(1, {
      ev: 'dash',
      node: node([200, 201]),
      ranks: [
        { rank: 1, host: 'x', pid: 200, state: 'running' },
        { rank: 2, host: 'x', pid: 201, state: 'running' },
      ],
      reports: { 1: report(3), 2: report(4) },
      logs,
    });
  sampleB({ 2: ['hello from 2'] });
  m.exited({ rank: 2, code: null, signal: 'SIGKILL' });
  sampleB({});
  const s = m.state();
  t.same(
    s.nodes.map((n) => n.host),
    ['hostA', 'hostB'],
    'hosts named by the launcher, in hostfile order',
  );
  t.same(
    s.ranks.map((r) => [r.rank, r.host, r.state]),
    [
      [0, 'hostA', 'starting'],
      [1, 'hostB', 'running'],
      [2, 'hostB', 'failed'],
    ],
  );
  t.equal(s.ranks[2].signal, 'SIGKILL');
  t.equal(s.nodes[1].processes[1].state, 'failed', 'the process row follows its rank');
  t.same(s.collectives, { ops: 7, bytes: 70, secondsInCollectives: 0 }, 'summed over ranks');
  t.same(m.logs(2, 10), ['hello from 2']);
  t.same(m.logs(0, 10), [], 'a known rank without output');
  t.equal(m.logs(9, 10), undefined, 'an unknown rank');
});
