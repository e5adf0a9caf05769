// The dashboard of an SSH job across real hosts: two network namespaces, each with its own address and a
// real sshd (test/helpers/netns.ts). The agents on those hosts sample their host and ranks and relay it,
// with the ranks' reports and output, over their control lines; /api/state must show both hosts, every
// rank on its own host with its own pid, collective totals summed over hosts, and a remote rank's logs.
import { existsSync, writeFileSync } from 'node:fs';
import t from 'tap';
import type { DashboardState } from '../src/telemetry/state-types.js';
import { waitFor } from './fixtures/dashboard/job.js';
import { createNetnsCluster, netnsUnavailable } from './helpers/netns.js';
import { startTsrun, writeRankPrograms } from './helpers/ssh-tsrun.js';

const SPMD = new URL('./fixtures/dashboard/spmd.ts', import.meta.url).pathname;

const why = netnsUnavailable();
if (why) {
  t.plan(0, `skipped: the SSH dashboard test needs real hosts: ${why}`);
} else {
  const cluster = await createNetnsCluster(2);
  t.teardown(cluster.teardown);
  const files = writeRankPrograms({});
  t.teardown(files.remove);
  const hostfile = files.path('hostfile');
  writeFileSync(hostfile, `${cluster.addrs[0]} slots=1\n${cluster.addrs[1]} slots=2\n`);
  const stopFile = files.path('stop');

  t.test('--hostfile with --dashboard-port: every host, every rank on its host, remote logs', async (t) => {
    const run = startTsrun([
      '--hostfile',
      hostfile,
      ...cluster.sshOpts.map((o) => `--ssh-opt=${o}`),
      '--dashboard-port',
      '0',
      '--dashboard-host',
      '0.0.0.0',
      '-x',
      'DASH_SECONDS=90',
      '-x',
      `DASH_STOP_FILE=${stopFile}`,
      SPMD,
    ]);
    t.teardown(() => void run.proc.kill('SIGKILL'));
    const url = await waitFor(
      'the dashboard URL',
      async () => /dashboard at (http:\/\/\S+)/.exec(run.stderr())?.[1],
    );
    t.match(url, /\?token=[0-9a-f]{32}$/, 'off loopback the URL carries the token');
    const base = `http://127.0.0.1:${new URL(url).port}`;
    t.equal((await fetch(`${base}/api/state`)).status, 401, 'no token, no state');
    const auth = { headers: { cookie: '' } };
    const first = await fetch(url.replace(/^http:\/\/[^/]+/, base));
    auth.headers.cookie = first.headers.get('set-cookie')?.split(';')[0] ?? '';
    t.ok(auth.headers.cookie, 'the first URL sets the cookie');

    const st = await waitFor('both hosts to report running ranks and collectives', async () => {
      const s = (await (await fetch(`${base}/api/state`, auth)).json()) as DashboardState;
      const ready =
        s.nodes.every((n) => n.processes.length > 0 && n.memTotalBytes > 0) &&
        s.ranks.length === 3 &&
        s.ranks.every((r) => r.state === 'running') &&
        s.collectives.ops > 100;
      return ready ? s : undefined;
    });
    t.same(
      st.nodes.map((n) => n.host),
      cluster.addrs,
      'one node per host, named as in the hostfile',
    );
    t.same(
      st.ranks.map((r) => [r.rank, r.host]),
      [
        [0, cluster.addrs[0]],
        [1, cluster.addrs[1]],
        [2, cluster.addrs[1]],
      ],
      'each rank on its host',
    );
    t.same(
      st.nodes.map((n) => n.processes.map((p) => p.rank)),
      [[0], [1, 2]],
      'each host lists its own rank processes',
    );
    for (const [i, n] of st.nodes.entries()) {
      t.ok(n.cpuPercent >= 0 && n.cpuPercent <= 100.5, `host ${i} CPU ${n.cpuPercent}`);
      // The pids a host reports are processes that really run inside that host's namespace.
      const inside = new Set(cluster.pidsIn(i));
      for (const p of n.processes) {
        t.ok(inside.has(p.pid), `rank ${p.rank} pid ${p.pid} runs in host ${i}'s namespace`);
        t.ok(p.rssBytes > 10 * 2 ** 20, `rank ${p.rank} RSS ${p.rssBytes}`);
        t.equal(p.role, 'rank');
        t.equal(st.ranks.find((r) => r.rank === p.rank)?.pid, p.pid, 'same pid in ranks and processes');
      }
    }
    // Three ranks all-reducing 64 KiB: the remote host's ranks count too.
    t.ok(st.collectives.bytes >= st.collectives.ops * 32 * 1024, `${st.collectives.bytes} bytes`);

    const logs = await waitFor('a remote rank to print', async () => {
      const l = (await (await fetch(`${base}/api/logs?rank=2&tail=5`, auth)).json()) as { lines: string[] };
      return l.lines.length > 0 ? l : undefined;
    });
    t.ok(logs.lines.length <= 5, 'tail honoured');
    t.match(logs.lines.at(-1), /^rank 2 at call \d+$/, 'rank 2 (on the second host) output, relayed');

    // A rate needs two samples after the first report: wait for it rather than assume it.
    const history = await waitFor('collective bytes/s in the chart history', async () => {
      const h = (await (await fetch(`${base}/api/history`, auth)).json()) as {
        collectiveBytesPerSec: number;
      }[];
      return h.some((x) => x.collectiveBytesPerSec > 0) ? h : undefined;
    });
    t.ok(history.length >= 2, 'one sample a second');
    writeFileSync(stopFile, '');
    const r = await run.result;
    t.equal(r.code, 0, r.stderr);
    t.ok(existsSync(stopFile));
  });
}
