// Real two-rank collectives through the launcher, and the same program started the way mpirun and srun
// start it. Needs init() from src/index.ts; until the integrator's foundation lands this file reports
// itself skipped with that reason.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { freePort, newJobSecret, spawnLocalRanks, tsxCommand } from '../src/process/local-spawner.js';
import { alive, repoRoot, runTsrun, startTsrun, waitUntil, writeRankPrograms } from './helpers/ssh-tsrun.js';

const indexPath = join(repoRoot, 'src', 'index.ts');
// init() is part of the foundation and always exported now; kept as a guard for a broken checkout.
const hasInit = existsSync(indexPath);

if (!hasInit) {
  t.plan(0, 'skipped: src/index.ts does not export init() yet (foundation issue)');
} else {
  const index = pathToFileURL(indexPath).href;
  const progs = writeRankPrograms({
    'sum.mts': `import { init } from '${index}';
const pg = await init({ timeoutMs: 30000 });
const x = new Float64Array([pg.rank + 1]);
await pg.allReduce(x);
console.log(JSON.stringify({ rank: pg.rank, size: pg.size, sum: x[0], pid: process.pid }));
await pg.destroy();
`,
    'listeners.mts': `import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { init } from '${index}';
const pg = await init({ timeoutMs: 30000 });
const x = new Float64Array([pg.rank + 1]);
await pg.allReduce(x);
// The IPv4 addresses this process listens on (its own sockets only).
const mine = new Set(readdirSync('/proc/self/fd').map((f) => { try { return readlinkSync('/proc/self/fd/' + f); } catch { return ''; } }));
const addrs = readFileSync('/proc/net/tcp', 'utf8').trim().split('\\n').slice(1).map((l) => l.trim().split(/\\s+/))
  .filter((c) => c[3] === '0A' && mine.has('socket:[' + c[9] + ']'))
  .map((c) => c[1].split(':')[0].match(/../g).reverse().map((h) => parseInt(h, 16)).join('.'));
console.log(JSON.stringify({ rank: pg.rank, sum: x[0], listen: [...new Set(addrs)] }));
await pg.destroy();
`,
    'forever.mts': `import { init } from '${index}';
const pg = await init({ timeoutMs: 30000 });
console.log(JSON.stringify({ rank: pg.rank, pid: process.pid }));
const x = new Float64Array(1024);
for (;;) await pg.allReduce(x);
`,
  });
  t.teardown(progs.remove);
  const sums = (out: string) =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { rank: number; size: number; sum: number })
      .sort((a, b) => a.rank - b.rank);

  t.test('tsrun --nproc-per-node 2: allReduce', async (t) => {
    const r = await runTsrun(['--nproc-per-node', '2', progs.path('sum.mts')]);
    t.equal(r.code, 0, r.stderr);
    t.same(
      sums(r.stdout).map((x) => [x.rank, x.size, x.sum]),
      [
        [0, 2, 3],
        [1, 2, 3],
      ],
    );
  });

  /** Two per-node agents on loopback forming one 2-rank job; `node1Args` go to node 1's tsrun only. */
  const twoAgents = async (script: string, node1Args: string[] = []) => {
    const common = ['--nnodes', '2', '--nproc-per-node', '1', '--master-addr', '127.0.0.1'];
    const port = String(await freePort());
    const env = { TSRUN_JOB_SECRET: newJobSecret() };
    return Promise.all([
      runTsrun([...common, '--master-port', port, '--node-rank', '0', script], env),
      runTsrun([...common, '--master-port', port, '--node-rank', '1', ...node1Args, script], env),
    ]);
  };

  t.test('two per-node agents on loopback: allReduce across them', async (t) => {
    const [a, b] = await twoAgents(progs.path('sum.mts'));
    t.equal(a.code, 0, a.stderr);
    t.equal(b.code, 0, b.stderr);
    t.same(
      sums(a.stdout + b.stdout).map((x) => x.sum),
      [3, 3],
    );
  });

  t.test(
    '--bind chooses the address ranks listen on (default: the interface that reaches the master)',
    async (t) => {
      const [a, b] = await twoAgents(progs.path('listeners.mts'), ['--bind', '127.0.0.2']);
      t.equal(a.code, 0, a.stderr);
      t.equal(b.code, 0, b.stderr);
      const r0 = JSON.parse(a.stdout.trim().split('\n').pop() ?? '{}');
      const r1 = JSON.parse(b.stdout.trim().split('\n').pop() ?? '{}');
      t.same([r0.sum, r1.sum], [3, 3], 'the job works with a chosen bind address');
      t.same(r0.listen, ['127.0.0.1'], 'rank 0 listens only on the interface that reaches the master');
      t.same(r1.listen, ['127.0.0.2'], 'rank 1 listens only where --bind said');
    },
  );

  for (const style of ['mpirun', 'srun'] as const) {
    t.test(`started as ${style} starts it`, async (t) => {
      const port = await freePort();
      const secret = newJobSecret();
      const envFor = (rank: number): Record<string, string> =>
        style === 'mpirun'
          ? {
              OMPI_COMM_WORLD_RANK: String(rank),
              OMPI_COMM_WORLD_SIZE: '2',
              OMPI_COMM_WORLD_LOCAL_RANK: String(rank),
              OMPI_COMM_WORLD_LOCAL_SIZE: '2',
              OMPI_COMM_WORLD_NODE_RANK: '0',
            }
          : {
              SLURM_PROCID: String(rank),
              SLURM_NTASKS: '2',
              SLURM_LOCALID: String(rank),
              SLURM_NODEID: '0',
              SLURM_NNODES: '1',
              SLURM_LAUNCH_NODE_IPADDR: '127.0.0.1',
            };
      const base = { ...process.env };
      for (const k of ['RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'LOCAL_WORLD_SIZE', 'GROUP_RANK']) delete base[k];
      const job = spawnLocalRanks({
        command: tsxCommand(progs.path('sum.mts')),
        env: { ...base, MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), TSRUN_JOB_SECRET: secret },
        ranks: [0, 1].map((rank) => ({ rank, localRank: rank, env: envFor(rank) })),
      });
      let out = '';
      for (const p of job.procs) p.stdout!.on('data', (d) => (out += d));
      const exits = await job.exited;
      t.same(
        exits.map((e) => e.code),
        [0, 0],
        exits.map((e) => e.stderrTail.join('\n')).join('\n'),
      );
      t.same(
        sums(out).map((x) => [x.rank, x.size, x.sum]),
        [
          [0, 2, 3],
          [1, 2, 3],
        ],
      );
    });
  }

  t.test('SIGKILL of a rank mid-collective: job exits 137, every rank gone', async (t) => {
    const run = startTsrun(['--nproc-per-node', '3', progs.path('forever.mts')]);
    const lines = await Promise.all([0, 1, 2].map((r) => run.waitFor(new RegExp(`^\\{"rank":${r},`))));
    const pids = lines.map((l) => JSON.parse(l).pid as number);
    await new Promise((r) => setTimeout(r, 300)); // let the all-reduce loop run
    const t0 = Date.now();
    process.kill(pids[1], 'SIGKILL');
    const r = await run.result;
    const gone = await waitUntil(() => pids.every((p) => !alive(p)), 10_000);
    t.equal(r.code, 137);
    t.match(r.stderr, /rank: +1\n {4}status: killed by signal SIGKILL/);
    t.ok(gone, 'all ranks gone');
    t.comment(`measured: rank SIGKILL mid-allReduce -> job exit in ${Date.now() - t0} ms`);
  });
}
