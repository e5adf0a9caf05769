// The hierarchical all-reduce across real hosts: two network namespaces with a real sshd each
// (test/helpers/netns.ts), two ranks on each, launched by tsrun over SSH. Large all-reduces must give exact
// results and report `allreduce-hierarchical` in the flight recorder, on the world and on a sub-group
// spanning both hosts (the default); with TSRUN_HIERARCHICAL=0 they stay on the flat ring, same results.
import { writeFileSync } from 'node:fs';
import t from 'tap';
import { createNetnsCluster, netnsUnavailable } from './helpers/netns.js';
import { runTsrun, writeRankPrograms } from './helpers/ssh-tsrun.js';

const fixture = new URL('./fixtures/spmd/hierarchical-allreduce.ts', import.meta.url).pathname;

interface Line {
  rank: number;
  failures: string[];
  algorithms: string[];
}

function lines(stdout: string): Line[] {
  return stdout
    .split('\n')
    .map((l) => l.replace(/^\[\d+\] /, ''))
    .filter((l) => l.startsWith('{"rank"'))
    .map((l) => JSON.parse(l) as Line)
    .sort((a, b) => a.rank - b.rank);
}

const why = netnsUnavailable();
if (why) {
  t.plan(0, `skipped: the hierarchical all-reduce test needs real hosts: ${why}`);
} else {
  const cluster = await createNetnsCluster(2);
  t.teardown(cluster.teardown);
  const files = writeRankPrograms({});
  t.teardown(files.remove);
  const hostfile = files.path('hostfile');
  writeFileSync(hostfile, `${cluster.addrs[0]} slots=2\n${cluster.addrs[1]} slots=2\n`);
  const common = ['--hostfile', hostfile, ...cluster.sshOpts.map((o) => `--ssh-opt=${o}`)];

  for (const [label, extra, algorithm] of [
    [
      'by default, 2 hosts x 2 ranks: shared memory within a host, one stream per local rank across',
      [],
      'hierarchical',
    ],
    ['TSRUN_HIERARCHICAL=0: the flat ring, same results', ['-x', 'TSRUN_HIERARCHICAL=0'], 'ring'],
  ] as const) {
    t.test(label, async (t) => {
      const r = await runTsrun([...common, ...extra, fixture]);
      t.equal(r.code, 0, r.stderr);
      const got = lines(r.stdout);
      t.same(
        got.map((l) => l.rank),
        [0, 1, 2, 3],
        'every rank reported',
      );
      for (const l of got) {
        t.same(l.failures, [], `rank ${l.rank}: every element exact`);
        const world = Array(5).fill(`4:allreduce-${algorithm}`);
        t.same(l.algorithms, l.rank === 3 ? world : [...world, `3:allreduce-${algorithm}`], `rank ${l.rank}`);
      }
    });
  }
}
