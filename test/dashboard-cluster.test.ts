// The dashboard of a persistent pool cluster, through the real CLI: `tsrun cluster start --head
// --dashboard-port 0 --dashboard-host 0.0.0.0` with a worker on the head's host, a node joining from
// another host (a network namespace with its own address), and a driver attached by address. Checks
// /api/state (hosts, head / worker / driver processes, task counts by function), the token and cookie,
// a remote worker's logs, a SIGKILLed worker shown as failed, the chart history and the live events.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { DashboardState } from '../src/telemetry/state-types.js';
import { waitFor } from './fixtures/dashboard/job.js';
import { createNetnsCluster, netnsUnavailable } from './helpers/netns.js';
import { runTsrun, tsrunBin } from './helpers/ssh-tsrun.js';

const DRIVER = new URL('./fixtures/dashboard/cluster-driver.ts', import.meta.url).pathname;

const why = netnsUnavailable();
if (why) {
  t.plan(0, `skipped: the cluster dashboard test joins a node from another host: ${why}`);
} else {
  t.test(
    'cluster start --head --dashboard-port: hosts, processes, tasks, logs, a killed worker',
    async (t) => {
      const hosts = await createNetnsCluster(1);
      t.teardown(hosts.teardown);
      const dir = mkdtempSync(join(tmpdir(), 'tsrun-cdash-'));
      const env = { TSRUN_CLUSTER_DIR: dir, TSRUN_POOL_ADDRESS: '', TSRUN_POOL_SECRET: '' };
      t.teardown(async () => {
        await runTsrun(['cluster', 'stop'], env);
        rmSync(dir, { recursive: true, force: true });
      });

      const start = await runTsrun(
        [
          'cluster',
          'start',
          '--head',
          '--port',
          '0',
          '--workers',
          '1',
          '--dashboard-port',
          '0',
          '--dashboard-host',
          '0.0.0.0',
        ],
        env,
      );
      t.equal(start.code, 0, start.stderr);
      const address = /head serving at (\S+)/.exec(start.stdout)?.[1] ?? '';
      const url = /dashboard at (http:\/\/\S+)/.exec(start.stdout)?.[1] ?? '';
      t.match(url, /\?token=[0-9a-f]{32}$/, 'the URL is printed at start, with the token off loopback');
      t.match(start.stdout, /off loopback/, 'and says why');
      const base = `http://127.0.0.1:${new URL(url).port}`;
      t.equal((await fetch(`${base}/api/state`)).status, 401, 'no token, no state');
      const first = await fetch(`${base}/?token=${new URL(url).searchParams.get('token')}`);
      t.equal(first.status, 200);
      const auth = { headers: { cookie: first.headers.get('set-cookie')?.split(';')[0] ?? '' } };
      const state = async () => (await (await fetch(`${base}/api/state`, auth)).json()) as DashboardState;

      // A node on another host joins over the bridge (the head binds every interface).
      const secret = readFileSync(join(dir, 'secret'), 'utf8').trim();
      const headAddr = `${hosts.addrs[0].replace(/\.\d+$/, '.254')}:${address.split(':')[1]}`;
      execFileSync(
        'ip',
        ['netns', 'exec', hosts.namespaces[0], process.execPath, tsrunBin, 'cluster', 'start'].concat([
          '--address',
          headAddr,
          '--workers',
          '1',
        ]),
        { env: { ...process.env, ...env, TSRUN_CLUSTER_DIR: join(dir, 'node'), TSRUN_POOL_SECRET: secret } },
      );

      const stopFile = join(dir, 'stop');
      const driver = spawn(process.execPath, ['--import', 'tsx', DRIVER], {
        env: {
          ...process.env,
          ...env,
          TSRUN_POOL_ADDRESS: address,
          TSRUN_POOL_SECRET: secret,
          DASH_STOP_FILE: stopFile,
        },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      const driverDone = new Promise((r) => driver.on('close', r));
      t.teardown(() => {
        writeFileSync(stopFile, '');
        driver.kill('SIGKILL');
      });

      const st = await waitFor('two hosts, two workers, a driver and finished tasks', async () => {
        const s = await state();
        const procs = s.nodes.flatMap((n) => n.processes);
        const ok =
          s.nodes.length === 2 &&
          s.nodes.every((n) => n.memTotalBytes > 0) &&
          procs.filter((p) => p.role === 'worker' && p.rssBytes > 0).length === 2 &&
          procs.some((p) => p.role === 'driver' && p.rssBytes > 0) &&
          (s.tasks.byFunction['tasks.ts#spin']?.finished ?? 0) >= 20 &&
          (s.tasks.byFunction['tasks.ts#fail']?.failed ?? 0) >= 1;
        return ok ? s : undefined;
      });
      const [headNode, remote] = st.nodes;
      t.not(headNode.host, remote.host, 'two hosts, told apart');
      t.same(
        headNode.processes.map((p) => p.role).sort(),
        ['driver', 'head', 'worker'],
        "the head's host: head, its worker, the driver",
      );
      t.equal(
        headNode.processes.find((p) => p.role === 'head')?.pid,
        JSON.parse(readFileSync(join(dir, 'head.json'), 'utf8')).pid,
      );
      t.same(
        remote.processes.map((p) => p.role),
        ['worker'],
        'the joined host: its worker',
      );
      const remoteWorker = remote.processes[0];
      t.ok(hosts.pidsIn(0).includes(remoteWorker.pid), 'that worker runs inside the other host');
      for (const p of [...headNode.processes, ...remote.processes])
        t.ok(p.rssBytes > 10 * 2 ** 20, `${p.role} pid ${p.pid} RSS ${p.rssBytes}`);
      t.ok(
        remote.cpuPercent >= 0 && remote.cpuPercent <= 100.5 && remote.memUsedBytes > 0,
        'remote host sampled',
      );
      t.same(
        st.ranks.map((r) => r.host).sort(),
        [headNode.host, remote.host].sort(),
        'workers are the ranks, each with its host',
      );
      t.ok(st.tasks.byFunction['tasks.ts#spin'].meanSeconds > 0.004, 'mean seconds per function');
      t.equal(st.tasks.failed, st.tasks.byFunction['tasks.ts#fail'].failed);

      const logs = await waitFor('the remote worker to print', async () => {
        const r = await fetch(`${base}/api/logs?rank=${remoteWorker.rank}&tail=3`, auth);
        const l = (await r.json()) as { lines: string[] };
        return l.lines.length > 0 ? l : undefined;
      });
      t.ok(logs.lines.length <= 3, 'tail honoured');
      t.match(
        logs.lines.at(-1),
        new RegExp(`^task says hello from round \\d+ \\(pid ${remoteWorker.pid}\\)$`),
      );

      process.kill(remoteWorker.pid, 'SIGKILL');
      const after = await waitFor('the killed worker to show as failed', async () => {
        const s = await state();
        const dead = s.ranks.find((r) => r.pid === remoteWorker.pid);
        return dead?.state === 'failed' ? s : undefined;
      });
      const dead = after.ranks.find((r) => r.pid === remoteWorker.pid)!;
      t.equal(dead.signal, 'SIGKILL');
      t.equal(after.nodes[1].processes.find((p) => p.pid === remoteWorker.pid)?.state, 'failed');

      const history = await waitFor('tasks/s in the chart history', async () => {
        const h = (await (await fetch(`${base}/api/history`, auth)).json()) as { tasksPerSec: number }[];
        return h.some((x) => x.tasksPerSec > 0) ? h : undefined;
      });
      t.ok(history.length >= 2, 'one sample a second');
      const events = await fetch(`${base}/api/events`, auth);
      const reader = events.body!.getReader();
      let text = '';
      while (!text.includes('data: ')) text += new TextDecoder().decode((await reader.read()).value);
      await reader.cancel();
      t.match(text, /data: \{"state":\{"nodes":/, 'live events carry the state');

      writeFileSync(stopFile, '');
      await driverDone;
      t.equal(driver.exitCode, 0, 'the driver finished normally');
    },
  );
}
