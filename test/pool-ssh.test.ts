// `tsrun --pool --hostfile`: the pool across real hosts (network namespaces with sshd, see
// test/helpers/netns.ts). Rank 0 serves the head and drives on the first host; the workers on the
// second host join it over TCP and run the tasks.
import t from 'tap';
import { createNetnsCluster, netnsUnavailable } from './helpers/netns.js';
import { runTsrun, writeRankPrograms } from './helpers/ssh-tsrun.js';

const DRIVER = new URL('./fixtures/pool/driver.ts', import.meta.url).pathname;

const why = netnsUnavailable();
if (why) {
  t.plan(0, `skipped: the multi-host pool test needs real hosts: ${why}`);
} else {
  const cluster = await createNetnsCluster(2);
  t.teardown(cluster.teardown);
  const progs = writeRankPrograms({});
  t.teardown(progs.remove);
  const hostfile = progs.path('hostfile');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(hostfile, `${cluster.addrs[0]} slots=1\n${cluster.addrs[1]} slots=2\n`);
  const sshArgs = cluster.sshOpts.map((o) => `--ssh-opt=${o}`);

  t.test('tsrun --pool --hostfile: workers on another host run the tasks', async (t) => {
    const r = await runTsrun(['--pool', '--hostfile', hostfile, ...sshArgs, DRIVER], {
      TSRUN_POOL_ADDRESS: '',
    });
    t.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}');
    t.same(
      res.squares,
      Array.from({ length: 40 }, (_, i) => i * i),
    );
    t.equal(res.workers, 2, 'both worker ranks joined');
    t.equal(res.workerNetns.length, 1, 'tasks ran on one host');
    t.not(res.workerNetns[0], res.driverNetns, 'which is not the driver’s host');
    await new Promise((r) => setTimeout(r, 500));
    t.same(cluster.pidsIn(1), [], 'nothing left running on the worker host');
  });
}
