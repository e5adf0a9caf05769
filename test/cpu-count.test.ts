import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import t from 'tap';
import {
  autoProcsPerNode,
  cgroupCpuQuota,
  parseCfsQuota,
  parseCpuMax,
  parseProcCgroup,
  usableCpus,
} from '../launcher/cpu-count.js';
import { withoutTapLoaders } from './helpers/compiled-package.js';

t.test('the least of affinity, cgroup quota and SLURM_CPUS_ON_NODE, at least 1', async (t) => {
  t.equal(usableCpus({ affinity: 8 }), 8);
  t.equal(usableCpus({ affinity: 8, quota: 2 }), 2);
  t.equal(usableCpus({ affinity: 8, quota: 1.5 }), 2, 'a fractional quota rounds up');
  t.equal(usableCpus({ affinity: 8, quota: 0.2 }), 1);
  t.equal(usableCpus({ affinity: 2, quota: 16 }), 2, 'a quota above the mask does not add CPUs');
  t.equal(usableCpus({ affinity: 8, quota: 4, slurmCpusOnNode: 3 }), 3);
  t.equal(usableCpus({ affinity: 1, slurmCpusOnNode: 6 }), 1);
  t.equal(usableCpus({ affinity: 0 }), 1);
});

t.test('cgroup file formats', async (t) => {
  t.equal(parseCpuMax('max 100000\n'), undefined);
  t.equal(parseCpuMax('200000 100000\n'), 2);
  t.equal(parseCpuMax('50000 100000'), 0.5);
  t.equal(parseCfsQuota('-1\n', '100000\n'), undefined);
  t.equal(parseCfsQuota('300000\n', '100000\n'), 3);
  t.same(parseProcCgroup('0::/user.slice/session-1.scope\n'), { v2: '/user.slice/session-1.scope' });
  t.same(parseProcCgroup('4:memory:/a\n2:cpu,cpuacct:/slurm/uid_0/job_7\n0::/\n'), {
    v1Cpu: '/slurm/uid_0/job_7',
    v2: '/',
  });
});

function fakeRoot(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'tsrun-cgroup-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return root;
}

t.test('cgroup v2: the tightest cpu.max from the process cgroup up to the root', async (t) => {
  const root = fakeRoot({
    'proc/self/cgroup': '0::/kubepods/pod1/ctr\n',
    'sys/fs/cgroup/cgroup.controllers': 'cpu memory\n',
    'sys/fs/cgroup/cpu.max': 'max 100000\n',
    'sys/fs/cgroup/kubepods/pod1/cpu.max': '150000 100000\n',
    'sys/fs/cgroup/kubepods/pod1/ctr/cpu.max': 'max 100000\n',
  });
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  t.equal(cgroupCpuQuota(root), 1.5);
});

t.test('cgroup v1: cpu.cfs_quota_us over cpu.cfs_period_us', async (t) => {
  const root = fakeRoot({
    'proc/self/cgroup': '3:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n',
    'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '-1\n',
    'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
    'sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '400000\n',
    'sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us': '100000\n',
  });
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  t.equal(cgroupCpuQuota(root), 4);
});

t.test('no cgroup files: no quota', async (t) => {
  const root = fakeRoot({ 'proc/self/cgroup': '0::/\n' });
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  t.equal(cgroupCpuQuota(root), undefined);
});

t.test('this process: never more than the affinity mask; SLURM_CPUS_ON_NODE caps it', async (t) => {
  t.ok(autoProcsPerNode({}) <= availableParallelism());
  t.ok(autoProcsPerNode({}) >= 1);
  t.equal(autoProcsPerNode({ SLURM_CPUS_ON_NODE: '1' }), 1);
  t.equal(
    autoProcsPerNode({ SLURM_CPUS_ON_NODE: 'x' }),
    autoProcsPerNode({}),
    'a malformed value is ignored',
  );
});

t.test('Node counts the affinity mask: under taskset -c 0 a process may use 1 CPU', async (t) => {
  const probe = 'import("node:os").then((os) => console.log(os.availableParallelism()))';
  let out: string;
  try {
    out = execFileSync('taskset', ['-c', '0', process.execPath, '-e', probe], {
      encoding: 'utf8',
      env: withoutTapLoaders(),
    });
  } catch (e) {
    t.plan(0, `skipped: taskset cannot pin here: ${(e as Error).message.split('\n')[0]}`);
    return;
  }
  t.equal(out.trim(), '1');
});
