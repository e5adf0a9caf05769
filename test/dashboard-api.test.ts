// The dashboard's JSON API on real jobs: a `--pool` job with 3 ranks (processes, tasks, logs, a worker
// killed with SIGKILL) and an SPMD job served off loopback (token, cookie, collective totals).
import t from 'tap';
import type { DashboardState } from '../src/telemetry/state-types.js';
import { startDashboardJob, waitFor } from './fixtures/dashboard/job.js';

async function getState(base: string, init?: RequestInit): Promise<DashboardState> {
  const res = await fetch(`${base}/api/state`, init);
  if (!res.ok) throw new Error(`GET /api/state: ${res.status}`);
  return (await res.json()) as DashboardState;
}

t.test('a --pool job with 3 ranks: nodes, processes, tasks finishing, logs, a killed worker', async (t) => {
  const job = await startDashboardJob(['--pool', '--nproc-per-node', '3'], 'driver.ts');
  t.teardown(() => void job.proc.kill('SIGKILL'));
  t.match(job.url, /^http:\/\/127\.0\.0\.1:\d+\/$/, 'loopback by default, no token');

  const st = await waitFor('tasks to finish', async () => {
    const s = await getState(job.base);
    return s.tasks.finished >= 20 && s.ranks.every((r) => r.state === 'running') ? s : undefined;
  });
  t.equal(st.nodes.length, 1, 'one host');
  const node = st.nodes[0];
  t.ok(node.memTotalBytes > 0 && node.memUsedBytes > 0 && node.memUsedBytes <= node.memTotalBytes);
  t.ok(node.cpuPercent >= 0 && node.cpuPercent <= 100.5, `host CPU ${node.cpuPercent}`);
  t.equal(node.processes.length, 3, 'three processes');
  t.same(
    node.processes.map((p) => [p.rank, p.role]),
    [
      [0, 'driver'],
      [1, 'worker'],
      [2, 'worker'],
    ],
  );
  for (const p of node.processes) t.ok(p.rssBytes > 10 * 2 ** 20, `rank ${p.rank} RSS ${p.rssBytes}`);
  t.same(
    st.ranks.map((r) => r.rank),
    [0, 1, 2],
  );
  t.same(new Set(node.processes.map((p) => p.pid)), new Set(st.ranks.map((r) => r.pid)));
  const spin = st.tasks.byFunction['tasks.ts#spin'];
  t.ok(spin && spin.finished >= 20 && spin.meanSeconds > 0.004, JSON.stringify(spin));
  t.equal(st.collectives.ops, 0, 'no collectives in a pool job');

  const failed = await waitFor('the failing task', async () => {
    const s = await getState(job.base);
    return s.tasks.byFunction['tasks.ts#fail']?.failed ? s : undefined;
  });
  t.equal(failed.tasks.failed, failed.tasks.byFunction['tasks.ts#fail'].failed);

  const history = await waitFor('tasks/s in the history', async () => {
    const h = (await (await fetch(`${job.base}/api/history`)).json()) as { t: number; tasksPerSec: number }[];
    return h.some((x) => x.tasksPerSec > 0) ? h : undefined;
  });
  t.ok(history.length >= 2, 'one sample a second');
  t.ok(history.at(-1)!.t - history[0].t >= 1, 'samples span the job');

  const logs = (await (await fetch(`${job.base}/api/logs?rank=0&tail=3`)).json()) as { lines: string[] };
  t.ok(logs.lines.length >= 1 && logs.lines.length <= 3, 'tail honoured');
  t.match(logs.lines.at(-1), /^round \d+ done$/);
  t.equal((await fetch(`${job.base}/api/logs?rank=9`)).status, 404, 'unknown rank');
  const bad = await fetch(`${job.base}/api/logs?tail=5`);
  t.equal(bad.status, 400);
  t.match(((await bad.json()) as { error: string }).error, /rank=N/);

  const victim = st.ranks.find((r) => r.rank === 2)!;
  process.kill(victim.pid, 'SIGKILL');
  const after = await waitFor(
    'rank 2 to show as failed',
    async () => {
      const s = await getState(job.base);
      return s.ranks.find((r) => r.rank === 2)?.state === 'failed' ? s : undefined;
    },
    10_000,
  );
  const r2 = after.ranks.find((r) => r.rank === 2)!;
  t.equal(r2.signal, 'SIGKILL');
  t.equal(after.nodes[0].processes.find((p) => p.rank === 2)?.state, 'failed');
  t.not(await job.exited, 0, 'a killed rank fails the job, as in any tsrun job');
});

t.test('off loopback: the token is enforced, then carried by a cookie; collective totals', async (t) => {
  const job = await startDashboardJob(['--nproc-per-node', '2', '--dashboard-host', '0.0.0.0'], 'spmd.ts');
  t.teardown(() => void job.proc.kill('SIGKILL'));
  t.match(job.stderr(), /off loopback/, 'says so at start-up');
  const token = new URL(job.url).searchParams.get('token');
  t.match(token, /^[0-9a-f]{32}$/);

  const denied = await fetch(`${job.base}/api/state`);
  t.equal(denied.status, 401);
  t.match(((await denied.json()) as { error: string }).error, /token/);
  t.equal((await fetch(`${job.base}/?token=${'0'.repeat(32)}`)).status, 401, 'a wrong token');

  const first = await fetch(`${job.base}/?token=${token}`);
  t.equal(first.status, 200);
  const cookie = first.headers.get('set-cookie')?.split(';')[0];
  t.ok(cookie, 'the first URL sets a cookie');
  t.match(await first.text(), /<title>/);

  const st = await waitFor('collectives to be counted', async () => {
    const s = await getState(job.base, { headers: { cookie: cookie! } });
    return s.collectives.ops > 50 ? s : undefined;
  });
  t.same(
    st.nodes[0].processes.map((p) => p.role),
    ['rank', 'rank'],
  );
  // Two ranks all-reducing 64 KiB: each sends at least 64 KiB per call.
  t.ok(st.collectives.bytes >= st.collectives.ops * 32 * 1024, `${st.collectives.bytes} bytes`);
  t.ok(st.collectives.secondsInCollectives > 0);
  t.equal(await job.stop(), 0, 'the job ends cleanly with the dashboard on');
});
